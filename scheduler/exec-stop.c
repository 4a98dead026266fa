/*
 * exec-stop.c: the executor stopping on request (SIGTERM/SIGINT in the
 * acting commands and `run`).
 *
 * A stop (VbExecOptions.stop >= 1) ends the starts at once: the fill pass
 * checks it before each start, and the queued moves are journaled skipped
 * ("not started"), so the plan can end "stopped" and no later run takes them
 * up. The running migrations drain: they go on for drain_seconds (0: until
 * they end, each still under the policy's timeout), then are aborted; stop
 * >= 2 (a second signal) aborts them at once. A migration whose abort is
 * refused is left running, journaled started: the run ends interrupted, the
 * plan unfinished for the next run to reconcile, and the report lists that
 * migration with state started.
 */
#include "config.h"

#include "scheduler/executor-priv.h"

gboolean
exec_stop_requested(Exec *ex)
{
    return ex->opts->stop && g_atomic_int_get(ex->opts->stop);
}

/* Stop: nothing new starts (the queued moves are journaled skipped, so no
 * later run takes them up); past the drain limit, or at once on a second
 * signal (stop >= 2), running ones are aborted. Migrations whose abort is
 * refused are left running, journaled as started: the run ends interrupted
 * (the plan stays unfinished for the next run to reconcile). */
gboolean
exec_drain(Exec *ex, GError **error)
{
    double limit = ex->opts->drain_seconds;
    VbExecReport *r = ex->report;

    if (r->stopped_clock < 0) {
        r->stopped_clock = exec_now(ex);
        r->stopped = ex->pending->len > 0;
        while (ex->pending->len > 0) {
            ExecMove *m = g_ptr_array_steal_index(ex->pending, ex->pending->len - 1);

            if (!exec_set_state(ex, m, VB_MOVE_STATE_SKIPPED, VB_EXEC_SKIPPED,
                                "not started: the run was stopped (SIGTERM/SIGINT)", error))
                return FALSE;
            exec_settle(ex, m);
            r->not_started++;
        }
    }
    if (g_atomic_int_get(ex->opts->stop) < 2 &&
        (limit <= 0 || exec_now(ex) - r->stopped_clock < limit))
        return TRUE;
    r->stopped |= ex->running->len > 0;
    for (guint i = 0; i < ex->running->len;) {
        ExecMove *m = g_ptr_array_index(ex->running, i);
        g_autofree char *why = NULL;
        gboolean ok, kept = FALSE;

        if (m->abort_refused) {
            i++;
            continue;
        }
        why = g_atomic_int_get(ex->opts->stop) >= 2
                  ? g_strdup_printf("stopping: second signal, migration aborted, guest stays "
                                    "on %s", m->from)
                  : g_strdup_printf("stopping: drain limit of %.0f s reached, migration "
                                    "aborted, guest stays on %s", limit, m->from);
        g_ptr_array_remove_index(ex->running, i);
        ok = exec_abort(ex, m, why, &kept, error);
        if (kept) {
            g_ptr_array_insert(ex->running, (gint) i++, m);
            if (!ok)
                return FALSE;
            continue;
        }
        ex->opts->ops->job_free(m->job);
        m->job = NULL;
        if (!ok)
            return FALSE;
    }
    if (ex->running->len > 0) {
        r->stopped = TRUE;
        r->interrupted = TRUE;
    }
    return TRUE;
}

/* An interrupted run: the migrations still in flight go last in the report,
 * state started, so whoever reads it knows what is still moving. */
void
exec_report_running(Exec *ex)
{
    for (guint i = 0; i < ex->running->len; i++) {
        const ExecMove *m = g_ptr_array_index(ex->running, i);
        VbExecOutcome *o = g_new0(VbExecOutcome, 1);

        o->vm = g_strdup(m->vm);
        o->from = g_strdup(m->from);
        o->to = g_strdup(m->to);
        o->kind = m->kind;
        o->state = VB_MOVE_STATE_STARTED;
        o->attempts = m->attempts;
        o->started_clock = m->started_clock;
        o->ended_clock = exec_now(ex);
        o->message = g_strdup("still running when the run ended: journaled as started, "
                              "the next run reconciles it");
        g_ptr_array_add(ex->report->outcomes, o);
        ex->report->still_running++;
    }
}
