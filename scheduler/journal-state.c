/*
 * journal-state.c: the acting lock, hosts in maintenance, and evacuated
 * guests (tables journal_lock, maintenance, evacuations; see journal.c).
 *
 * The lock is one row (id = 1) naming its holder: pid, the process's start
 * time in clock ticks since boot (from /proc/PID/stat, so a reused pid is
 * not mistaken for the holder), the boot id (/proc/sys/kernel/random/boot_id,
 * so a row left before a reboot is stale) and a random token of the holding
 * VbJournal, and the holder's hostname. Taking it is one IMMEDIATE
 * transaction: read the row, and replace it when it is absent, ours, or
 * stale. A process killed with -9 leaves its row behind, and the next process
 * on the same machine finds it stale and takes over: no lock is held forever
 * by the dead. Staleness can only be judged on the holder's own machine (a
 * database on shared storage may be used from several): a row written on
 * another host counts as alive whatever its boot id, and only an explicit
 * vb_journal_lock_break (`virt-balancer unlock --force`) removes it.
 */
#include "config.h"

#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

#include "scheduler/journal-priv.h"
#include "scheduler/scheduler.h"

/* ------------------------------------------------------------------ lock */

static char *
lock_boot_id(void)
{
    g_autofree char *text = NULL;

    if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &text, NULL, NULL))
        return g_strdup("unknown");
    return g_strstrip(g_steal_pointer(&text));
}

/* Start time of @pid in clock ticks since boot, or 0 when it does not run. */
static guint64
lock_process_start(gint64 pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%" G_GINT64_FORMAT "/stat", pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;
    const char *after;

    if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    /* The command name may hold spaces and parentheses: fields restart after
     * its last ')'. starttime is field 22, the 20th after the name. */
    after = strrchr(text, ')');
    if (!after)
        return 0;
    fields = g_strsplit(after + 2, " ", 0);
    if (g_strv_length(fields) < 20)
        return 0;
    return g_ascii_strtoull(fields[19], NULL, 10);
}

typedef struct {
    gint64 pid;
    guint64 start_ticks;
    char *boot_id;
    char *token;
    char *hostname;
} LockRow;

static void
lock_row_clear(LockRow *row)
{
    g_free(row->boot_id);
    g_free(row->token);
    g_free(row->hostname);
}

/* Reads the lock row; @ret_found says whether there is one. */
static gboolean
lock_read(VbJournal *journal, LockRow *row, gboolean *ret_found, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "SELECT pid, start_ticks, boot_id, token, hostname FROM journal_lock WHERE id = 1", error);
    int rc;

    if (!st)
        return FALSE;
    rc = sqlite3_step(st);
    *ret_found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        row->pid = sqlite3_column_int64(st, 0);
        row->start_ticks = (guint64) sqlite3_column_int64(st, 1);
        row->boot_id = g_strdup((const char *) sqlite3_column_text(st, 2));
        row->token = g_strdup((const char *) sqlite3_column_text(st, 3));
        row->hostname = g_strdup((const char *) sqlite3_column_text(st, 4));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vb_store_error(journal->store, error, "cannot read the lock");
    return TRUE;
}

/* TRUE when the process named by @row still runs (same boot, same pid with
 * the same start time), or may run: a holder on another host cannot be
 * checked from here (its boot id and pid mean nothing on this machine). */
static gboolean
lock_holder_alive(const LockRow *row)
{
    g_autofree char *boot = lock_boot_id();

    if (g_strcmp0(row->hostname, g_get_host_name()) != 0)
        return TRUE;
    if (g_strcmp0(boot, row->boot_id) != 0)
        return FALSE;
    return lock_process_start(row->pid) == row->start_ticks && row->start_ticks != 0;
}

static gboolean
lock_write(VbJournal *journal, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "INSERT OR REPLACE INTO journal_lock(id, pid, start_ticks, boot_id, token, hostname,"
        " acquired_us) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
        error);
    g_autofree char *boot = lock_boot_id();

    if (!st)
        return FALSE;
    sqlite3_bind_int64(st, 1, getpid());
    sqlite3_bind_int64(st, 2, (gint64) lock_process_start(getpid()));
    sqlite3_bind_text(st, 3, boot, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, journal->token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, g_get_host_name(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, g_get_real_time());
    return vb_store_step_done(journal->store, st, error);
}

/* Inside the transaction: FALSE with VB_ERROR_BUSY when a live other holds it. */
static gboolean
lock_take(VbJournal *journal, GError **error)
{
    LockRow row = { 0 };
    gboolean found = FALSE;
    gboolean ok;

    if (!lock_read(journal, &row, &found, error))
        return FALSE;
    if (found && g_strcmp0(row.token, journal->token) != 0 && lock_holder_alive(&row)) {
        gboolean here = g_strcmp0(row.hostname, g_get_host_name()) == 0;

        g_set_error(error, VB_ERROR, VB_ERROR_BUSY,
                    "%s: another virt-balancer (pid %" G_GINT64_FORMAT " on %s) is acting on "
                    "this pool; wait for it to finish or stop it%s",
                    vb_store_path(journal->store), row.pid, row.hostname ? row.hostname : "?",
                    here ? "" : " (it runs on another host, so it is never taken over: when "
                                "that process is certainly gone, 'virt-balancer unlock --force' "
                                "removes its lock)");
        lock_row_clear(&row);
        return FALSE;
    }
    if (found && g_strcmp0(row.token, journal->token) != 0)
        g_debug("taking over a stale lock of pid %" G_GINT64_FORMAT, row.pid);
    lock_row_clear(&row);
    ok = lock_write(journal, error);
    return ok;
}

gboolean
vb_journal_lock(VbJournal *journal, GError **error)
{
    if (journal->locked)
        return TRUE;
    if (!vb_store_begin(journal->store, error))
        return FALSE;
    if (!lock_take(journal, error) || !vb_store_commit(journal->store, error)) {
        vb_store_rollback(journal->store);
        return FALSE;
    }
    journal->locked = TRUE;
    return TRUE;
}

void
vb_journal_unlock(VbJournal *journal)
{
    sqlite3_stmt *st;

    if (!journal->locked)
        return;
    journal->locked = FALSE;
    st = vb_store_prepare(journal->store, "DELETE FROM journal_lock WHERE token = ?1", NULL);
    if (!st)
        return;
    sqlite3_bind_text(st, 1, journal->token, -1, SQLITE_TRANSIENT);
    /* Defensive: a failed delete leaves a row that the next taker finds
     * stale (this process will be gone), so it is only logged. */
    if (!vb_store_step_done(journal->store, st, NULL))
        g_debug("could not release the journal lock");
}

gboolean
vb_journal_lock_break(VbJournal *journal, gboolean force, VbJournalLockHolder *ret_holder,
                      GError **error)
{
    LockRow row = { 0 };
    gboolean found = FALSE;
    gboolean alive;
    sqlite3_stmt *st;

    if (!vb_store_begin(journal->store, error))
        return FALSE;
    if (!lock_read(journal, &row, &found, error)) {
        vb_store_rollback(journal->store);
        return FALSE;
    }
    alive = found && lock_holder_alive(&row);
    if (alive && !force) {
        g_set_error(error, VB_ERROR, VB_ERROR_BUSY,
                    "%s: the lock is held by pid %" G_GINT64_FORMAT " on %s, which %s; it is "
                    "left alone (--force removes it: only when that process is certainly gone)",
                    vb_store_path(journal->store), row.pid, row.hostname ? row.hostname : "?",
                    g_strcmp0(row.hostname, g_get_host_name()) == 0
                        ? "still runs"
                        : "runs on another host and cannot be checked from here");
        lock_row_clear(&row);
        vb_store_rollback(journal->store);
        return FALSE;
    }
    st = found ? vb_store_prepare(journal->store, "DELETE FROM journal_lock WHERE id = 1", error)
               : NULL;
    if ((found && (!st || !vb_store_step_done(journal->store, st, error))) ||
        !vb_store_commit(journal->store, error)) {
        lock_row_clear(&row);
        vb_store_rollback(journal->store);
        return FALSE;
    }
    if (ret_holder) {
        ret_holder->found = found;
        ret_holder->alive = alive;
        ret_holder->pid = row.pid;
        ret_holder->hostname = g_steal_pointer(&row.hostname);
    }
    lock_row_clear(&row);
    journal->locked = FALSE;
    return TRUE;
}

gboolean
vb_journal_is_locked(const VbJournal *journal)
{
    return journal->locked;
}

/* ----------------------------------------------------------- maintenance */

gboolean
vb_journal_maintenance_enter(VbJournal *journal, const char *host, const char *reason,
                             GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "INSERT INTO maintenance(host, since_us, reason) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(host) DO UPDATE SET reason = excluded.reason",
        error);

    if (!st)
        return FALSE;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, g_get_real_time());
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
    return vb_store_step_done(journal->store, st, error);
}

gboolean
vb_journal_maintenance_exit(VbJournal *journal, const char *host, gboolean *ret_was,
                            GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(journal->store, "DELETE FROM maintenance WHERE host = ?1",
                                        error);

    if (!st)
        return FALSE;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
    if (!vb_store_step_done(journal->store, st, error))
        return FALSE;
    if (ret_was)
        *ret_was = sqlite3_changes(vb_store_db(journal->store)) > 0;
    return TRUE;
}

/* The first column of every row of @sql bound to @arg (may be NULL). */
static GPtrArray *
journal_strings(VbJournal *journal, const char *sql, const char *arg, int col, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(journal->store, sql, error);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    int rc;

    if (!st)
        return NULL;
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g_ptr_array_add(out, g_strdup((const char *) sqlite3_column_text(st, col)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        vb_store_error(journal->store, error, "cannot read the journal");
        return NULL;
    }
    return g_steal_pointer(&out);
}

char **
vb_journal_maintenance_hosts(VbJournal *journal, GError **error)
{
    GPtrArray *hosts = journal_strings(journal, "SELECT host FROM maintenance ORDER BY host",
                                       NULL, 0, error);

    if (!hosts)
        return NULL;
    g_ptr_array_set_free_func(hosts, NULL);
    g_ptr_array_add(hosts, NULL);
    return (char **) g_ptr_array_free(hosts, FALSE);
}

void
vb_scheduler_apply_maintenance(VbInventory *inv, char *const *hosts)
{
    for (guint i = 0; hosts && hosts[i]; i++) {
        VbHost *host = vb_inventory_get_host(inv, hosts[i]);

        if (!host || host->state == VB_HOST_STATE_DOWN)
            continue;
        host->state = VB_HOST_STATE_MAINTENANCE;
        if (!host->state_reason)
            host->state_reason = g_strdup("in maintenance (virt-balancer maintenance exit to end)");
    }
}

void
vb_maintenance_free(VbMaintenance *m)
{
    if (!m)
        return;
    g_free(m->host);
    g_free(m->reason);
    g_free(m);
}

GPtrArray *
vb_journal_maintenance_list(VbJournal *journal, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store, "SELECT host, since_us, reason FROM maintenance ORDER BY host", error);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) vb_maintenance_free);
    int rc;

    if (!st)
        return NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        VbMaintenance *m = g_new0(VbMaintenance, 1);

        m->host = g_strdup((const char *) sqlite3_column_text(st, 0));
        m->since_us = sqlite3_column_int64(st, 1);
        m->reason = g_strdup((const char *) sqlite3_column_text(st, 2));
        g_ptr_array_add(out, m);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        vb_store_error(journal->store, error, "cannot read the maintenance set");
        return NULL;
    }
    return g_steal_pointer(&out);
}

void
vb_scheduler_apply_maintenance_list(VbInventory *inv, const GPtrArray *list)
{
    for (guint i = 0; list && i < list->len; i++) {
        const VbMaintenance *m = g_ptr_array_index(list, i);
        VbHost *host = vb_inventory_get_host(inv, m->host);
        const char *reason = m->reason && *m->reason ? m->reason : "no reason given";
        char *text;

        if (!host)
            continue;
        if (host->state == VB_HOST_STATE_DOWN)
            text = g_strdup_printf("%s; cannot be read: %s", reason,
                                   host->state_reason ? host->state_reason : "down");
        else
            text = g_strdup(reason);
        host->state = VB_HOST_STATE_MAINTENANCE;
        g_free(host->state_reason);
        host->state_reason = text;
    }
}

/* ----------------------------------------------------------- evacuations */

gboolean
vb_journal_evacuated_add(VbJournal *journal, const char *vm, const char *from, const char *to,
                         gint64 plan, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "INSERT OR REPLACE INTO evacuations(vm, from_host, to_host, plan, time_us)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
        error);

    if (!st)
        return FALSE;
    sqlite3_bind_text(st, 1, vm, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, plan);
    sqlite3_bind_int64(st, 5, g_get_real_time());
    return vb_store_step_done(journal->store, st, error);
}

GPtrArray *
vb_journal_evacuated(VbJournal *journal, const char *host, GPtrArray **ret_to, GError **error)
{
    static const char sql[] =
        "SELECT vm, to_host FROM evacuations WHERE from_host = ?1 ORDER BY time_us, vm";
    g_autoptr(GPtrArray) vms = journal_strings(journal, sql, host, 0, error);

    if (!vms)
        return NULL;
    if (ret_to) {
        *ret_to = journal_strings(journal, sql, host, 1, error);
        if (!*ret_to)
            return NULL;
    }
    return g_steal_pointer(&vms);
}

gboolean
vb_journal_evacuated_clear(VbJournal *journal, const char *host, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(journal->store,
                                        "DELETE FROM evacuations WHERE from_host = ?1", error);

    if (!st)
        return FALSE;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
    return vb_store_step_done(journal->store, st, error);
}
