/*
 * reconcile.c: resuming the journal's unfinished plan after a crash.
 *
 * The journal says what was decided; the hosts say what happened. For every
 * move of the unfinished plan:
 *   queued    certainly never started: queued again;
 *   started   may have finished, may still run, may have failed. The driver's
 *             locate says where the guest is: on the destination -> finished;
 *             defined on both (an interrupted cold move) -> failed, for a
 *             person to keep one copy;
 *             on the source with a migration in flight (job_find) -> the
 *             executor re-attaches and polls it; on the source without one
 *             -> the attempt failed (retried while retries are left); a cold
 *             move's partial disk copies on the destination (the copy died
 *             with the program) are removed first by the driver's
 *             cold_cleanup, which only removes what it marked as its own and
 *             no guest uses, and what it removed is journaled; on no
 *             reachable host -> failed and reported, never re-started blindly,
 *             unless its source or destination is down now (it may be there):
 *             then left started (unknown) and the plan unfinished, for a
 *             later run to sort out once the host answers;
 *   ended     (finished, failed, aborted, skipped): kept as they are.
 * Then the ordinary loop finishes the plan, so no move is repeated and none
 * is forgotten. Every conclusion is journaled before the loop acts on it.
 */
#include "config.h"

#include "scheduler/executor-priv.h"

static ExecMove *
exec_move_from_journal(const VbJournalMove *jm)
{
    ExecMove *m = g_new0(ExecMove, 1);

    m->vm = g_strdup(jm->vm);
    m->from = g_strdup(jm->from);
    m->to = g_strdup(jm->to);
    m->kind = jm->kind;
    m->estimated_seconds = jm->estimated_seconds;
    m->journal_id = jm->id;
    m->attempts = jm->attempts;
    m->state = jm->state;
    m->message = g_strdup(jm->message);
    m->started_clock = -1;
    return m;
}

/* Where the driver finds @vm: on @from, on @to (persistent), or neither. */
static gboolean
exec_locate(Exec *ex, const ExecMove *m, gboolean *ret_on_from, gboolean *ret_on_to,
            GError **error)
{
    g_autoptr(GPtrArray) locs = ex->opts->ops->locate(ex->opts->conn, m->vm, error);

    if (!locs)
        return FALSE;
    *ret_on_from = *ret_on_to = FALSE;
    for (guint i = 0; i < locs->len; i++) {
        const VbVmLocation *loc = g_ptr_array_index(locs, i);

        *ret_on_from |= g_strcmp0(loc->host, m->from) == 0;
        *ret_on_to |= g_strcmp0(loc->host, m->to) == 0 && loc->persistent;
    }
    return TRUE;
}

/* @ret_down: "HOST is down (reason)" when @m's source or destination cannot
 * be read now (a host that does not answer may hold the guest), else NULL.
 * FALSE only when the pool cannot be read at all. */
static gboolean
exec_move_host_down(Exec *ex, const ExecMove *m, char **ret_down, GError **error)
{
    g_autoptr(VbInventory) inv = ex->opts->ops->snapshot(ex->opts->conn, error);
    const char *names[] = { m->from, m->to };

    if (!inv)
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        const VbHost *h = vb_inventory_get_host(inv, names[i]);

        if (h && h->state == VB_HOST_STATE_DOWN) {
            *ret_down = g_strdup_printf("%s is down (%s)", names[i],
                                        h->state_reason ? h->state_reason : "no reason given");
            return TRUE;
        }
    }
    return TRUE;
}

/* An interrupted cold move of @m, found with its guest on its source only:
 * the driver removes the partial copies it left on the destination (which
 * would make every retry fail, and use the destination's storage). Returns
 * what to add to the journal's message (transfer full), or NULL when nothing
 * was left. Cannot fail: a clean-up that cannot run is said, and the retry's
 * own move tries again. */
static char *
exec_cold_cleanup(Exec *ex, const ExecMove *m)
{
    const VbDriverOps *ops = ex->opts->ops;
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) removed = NULL;
    g_autofree char *list = NULL;

    if (m->kind != VB_MOVE_COLD || !ops->cold_cleanup)
        return NULL;
    removed = ops->cold_cleanup(ex->opts->conn, m->vm, m->from, m->to, &local);
    if (!removed)
        return g_strdup_printf("its partial copies on %s not checked: %s", m->to,
                               local->message);
    if (!removed[0])
        return NULL;
    list = g_strjoinv(", ", removed);
    return g_strdup_printf("removed its partial copies on %s: %s", m->to, list);
}

static gboolean
exec_reconcile_started(Exec *ex, ExecMove *m, GError **error)
{
    const VbDriverOps *ops = ex->opts->ops;
    gboolean on_from = FALSE, on_to = FALSE;
    g_autofree char *down = NULL;
    VbJob *job = NULL;

    if (!exec_locate(ex, m, &on_from, &on_to, error))
        return FALSE;
    if (ops->job_find) {
        g_autoptr(GError) local = NULL;

        job = ops->job_find(ex->opts->conn, m->vm, &local);
        if (local)
            g_debug("%s: cannot look for its migration: %s", m->vm, local->message);
    }
    if (job) {
        /* Still running: re-attach; its time limit counts from now. */
        m->job = job;
        m->started_clock = exec_now(ex);
        g_ptr_array_add(ex->running, m);
        exec_emit(ex, m, VB_EXEC_STARTED, 0, "re-attached after a restart");
        return TRUE;
    }
    if (on_to && on_from) {
        /* An interrupted cold move (defined on the destination, not yet
         * undefined on the source) or a definition left behind: neither
         * "finished" (it would stay defined twice, and starting both copies
         * would share the disks) nor a retry is safe; a person picks one. */
        g_autofree char *why = g_strdup_printf("after a restart the guest is defined on both "
                                               "%s and %s: keep one by hand (undefine the "
                                               "other) before starting it",
                                               m->from, m->to);

        if (!exec_set_state(ex, m, VB_MOVE_STATE_FAILED, VB_EXEC_FAILED, why, error))
            return FALSE;
        exec_settle(ex, m);
        return TRUE;
    }
    if (on_to) {
        if (!exec_set_state(ex, m, VB_MOVE_STATE_FINISHED, VB_EXEC_FINISHED,
                            "found finished after a restart", error))
            return FALSE;
        if (ex->kind == VB_PLAN_EVACUATE &&
            !vb_journal_evacuated_add(ex->opts->journal, m->vm, m->from, m->to, ex->plan_id,
                                      error))
            return FALSE;
        exec_settle(ex, m);
        return TRUE;
    }
    if (on_from) {
        g_autofree char *cleaned = exec_cold_cleanup(ex, m);
        g_autofree char *why = NULL;

        m->started_clock = exec_now(ex);
        if (m->attempts <= ex->opts->policy->migration.max_retries) {
            why = g_strdup_printf("interrupted by a restart; guest still on its source%s%s",
                                  cleaned ? "; " : "", cleaned ? cleaned : "");
            if (!exec_set_state(ex, m, VB_MOVE_STATE_QUEUED, VB_EXEC_RETRY, why, error))
                return FALSE;
            g_ptr_array_add(ex->pending, m);
            return TRUE;
        }
        why = g_strdup_printf("interrupted by a restart and out of retries%s%s",
                              cleaned ? "; " : "", cleaned ? cleaned : "");
        if (!exec_set_state(ex, m, VB_MOVE_STATE_FAILED, VB_EXEC_FAILED, why, error))
            return FALSE;
        exec_settle(ex, m);
        return TRUE;
    }
    if (exec_move_host_down(ex, m, &down, error) && down) {
        g_autofree char *why = g_strdup_printf("after a restart the guest is on no reachable "
                                               "host and %s: left started until it answers",
                                               down);

        return exec_leave_unknown(ex, m, why, error);
    }
    if (error && *error)
        return FALSE;
    if (!exec_set_state(ex, m, VB_MOVE_STATE_FAILED, VB_EXEC_FAILED,
                        "after a restart the guest is on no reachable host: check its "
                        "source and destination by hand",
                        error))
        return FALSE;
    exec_settle(ex, m);
    return TRUE;
}

/* Sorts one journaled move into the executor's sets. */
static gboolean
exec_reconcile_move(Exec *ex, ExecMove *m, GError **error)
{
    switch (m->state) {
    case VB_MOVE_STATE_QUEUED:
        g_ptr_array_add(ex->pending, m);
        return TRUE;
    case VB_MOVE_STATE_STARTED:
        return exec_reconcile_started(ex, m, error);
    case VB_MOVE_STATE_FINISHED:
    case VB_MOVE_STATE_FAILED:
    case VB_MOVE_STATE_ABORTED:
        g_hash_table_add(ex->settled, g_strdup(m->vm));
        return TRUE;
    case VB_MOVE_STATE_SKIPPED:
    case VB_MOVE_STATE_LAST:
    default:
        return TRUE;
    }
}

VbExecReport *
vb_executor_resume(const VbExecOptions *opts, GError **error)
{
    g_autoptr(VbJournalPlan) jp = NULL;
    VbExecReport *report = NULL;
    gboolean ok = TRUE;
    Exec *ex;

    g_return_val_if_fail(opts && opts->journal && opts->ops && opts->conn && opts->policy, NULL);
    jp = vb_journal_unfinished_plan(opts->journal, error);
    if (!jp)
        return NULL;
    ex = exec_new(opts, jp->kind, jp->evacuated_host);
    ex->plan_id = jp->id;
    for (guint i = 0; ok && i < jp->moves->len; i++) {
        ExecMove *m = exec_move_from_journal(g_ptr_array_index(jp->moves, i));

        g_ptr_array_add(ex->moves, m);
        ok = exec_reconcile_move(ex, m, error);
    }
    if (ok)
        report = exec_loop(ex, error);
    exec_free(ex);
    return report;
}
