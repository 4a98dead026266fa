/*
 * executor.c: runs a plan's moves as a sliding window under the policy's
 * caps.
 *
 * The loop: poll every running migration (finished, failed -> retried or
 * given up, past the timeout -> aborted); then fill every free slot from the
 * queue, longest estimate first, skipping a move only while a cap holds it
 * back or an earlier move of the plan it depends on has not finished (plans
 * are ordered: vb_move_waits_for) (so a short move may start beside a long one: list scheduling, which
 * finishes within the longest move plus total/cap of the best possible
 * schedule); then sleep one poll interval on the driver's clock. A slot is
 * reused at the first poll after it frees, not when a whole batch is done.
 *
 * Caps (policy.migration; 0 would mean "no cap"): max_total migrations at
 * once (and evacuation_batch for evacuations), max_per_source leaving one
 * host, max_per_destination arriving at one, max_storage_per_pool
 * live-storage moves touching one pool.
 *
 * Every state change is journaled (exec_set_state) before the executor acts
 * on it, and a move is started only after its fresh re-check (exec-fresh.c).
 *
 * Invariants: a move is in exactly one of pending, running, or settled;
 * running->len never exceeds the total cap; a guest has at most one move in
 * pending or running.
 */
#include "config.h"

#include "scheduler/executor-priv.h"

const char *const vb_exec_event_names[] = { "queued",  "started", "progress",
                                            "finished", "retry",  "failed",
                                            "aborted", "skipped", "unplaced",
                                            "unknown", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(vb_exec_event_names) == VB_EXEC_EVENT_LAST + 1);

/* ------------------------------------------------------------ bookkeeping */

void
exec_move_free(ExecMove *move)
{
    if (!move)
        return;
    g_free(move->vm);
    g_free(move->from);
    g_free(move->to);
    g_free(move->message);
    g_free(move);
}

static void
exec_outcome_free(VbExecOutcome *o)
{
    g_free(o->vm);
    g_free(o->from);
    g_free(o->to);
    g_free(o->message);
    g_free(o);
}

void
vb_exec_report_free(VbExecReport *report)
{
    if (!report)
        return;
    if (report->outcomes)
        g_ptr_array_unref(report->outcomes);
    g_free(report);
}

Exec *
exec_new(const VbExecOptions *opts, VbPlanKind kind, const char *evacuated_host)
{
    Exec *ex = g_new0(Exec, 1);

    ex->opts = opts;
    ex->kind = kind;
    ex->evacuated_host = g_strdup(evacuated_host);
    ex->moves = g_ptr_array_new_with_free_func((GDestroyNotify) exec_move_free);
    ex->pending = g_ptr_array_new();
    ex->running = g_ptr_array_new();
    ex->replan = g_ptr_array_new_with_free_func(g_free);
    ex->settled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ex->skips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ex->report = g_new0(VbExecReport, 1);
    ex->report->outcomes = g_ptr_array_new_with_free_func((GDestroyNotify) exec_outcome_free);
    ex->report->started_clock = exec_now(ex);
    ex->report->stopped_clock = -1;
    return ex;
}

void
exec_free(Exec *ex)
{
    if (!ex)
        return;
    /* Jobs still held belong to migrations that keep running on the hosts
     * (after a simulated crash or a drain limit): free only the handles. */
    for (guint i = 0; i < ex->running->len; i++) {
        ExecMove *m = g_ptr_array_index(ex->running, i);

        if (m->job && ex->opts->ops->job_free)
            ex->opts->ops->job_free(m->job);
        m->job = NULL;
    }
    g_free(ex->evacuated_host);
    g_ptr_array_unref(ex->pending);
    g_ptr_array_unref(ex->running);
    g_ptr_array_unref(ex->replan);
    g_ptr_array_unref(ex->moves);
    g_hash_table_unref(ex->settled);
    g_hash_table_unref(ex->skips);
    vb_exec_report_free(ex->report);
    g_free(ex);
}

double
exec_now(Exec *ex)
{
    return ex->opts->ops->now(ex->opts->conn);
}

void
exec_emit(Exec *ex, const ExecMove *m, VbExecEventKind kind, double progress,
          const char *message)
{
    VbExecEvent ev = { 0 };

    if (!ex->opts->on_event)
        return;
    ev.kind = kind;
    ev.vm = m->vm;
    ev.from = m->from;
    ev.to = m->to;
    ev.move_kind = m->kind;
    ev.attempt = m->attempts;
    ev.clock = exec_now(ex);
    ev.elapsed_seconds = m->attempts > 0 ? ev.clock - m->started_clock : 0;
    ev.estimated_seconds = m->estimated_seconds;
    ev.progress = progress;
    ev.message = message;
    ev.n_running = ex->running->len;
    ev.remaining_mib = kind == VB_EXEC_PROGRESS ? m->remaining_mib : 0;
    ev.plan_id = ex->plan_id;
    ex->opts->on_event(&ev, ex->opts->user_data);
}

gboolean
exec_set_state(Exec *ex, ExecMove *m, VbMoveState state, VbExecEventKind kind,
               const char *message, GError **error)
{
    if (ex->opts->journal &&
        !vb_journal_move_set_state(ex->opts->journal, m->journal_id, state, m->attempts,
                                   exec_now(ex), message, error))
        return FALSE;
    m->state = state;
    if (message != m->message) {
        g_free(m->message);
        m->message = g_strdup(message);
    }
    if (kind < VB_EXEC_EVENT_LAST)
        exec_emit(ex, m, kind, state == VB_MOVE_STATE_FINISHED ? 1.0 : 0.0, message);
    return TRUE;
}

gboolean
exec_queue(Exec *ex, const char *vm, const char *from, const char *to, VbMoveKind kind,
           double estimated_seconds, GError **error)
{
    ExecMove *m = g_new0(ExecMove, 1);

    m->vm = g_strdup(vm);
    m->from = g_strdup(from);
    m->to = g_strdup(to);
    m->kind = kind;
    m->estimated_seconds = estimated_seconds;
    m->state = VB_MOVE_STATE_QUEUED;
    m->seq = ex->moves->len;
    g_ptr_array_add(ex->moves, m);
    if (ex->opts->journal &&
        !vb_journal_move_add(ex->opts->journal, ex->plan_id, vm, from, to, kind,
                             estimated_seconds, &m->journal_id, error))
        return FALSE;
    g_ptr_array_add(ex->pending, m);
    exec_emit(ex, m, VB_EXEC_QUEUED, 0, NULL);
    return TRUE;
}

static gint
exec_cmp_longest(gconstpointer a, gconstpointer b)
{
    const ExecMove *ma = *(ExecMove *const *) a;
    const ExecMove *mb = *(ExecMove *const *) b;

    if (ma->estimated_seconds != mb->estimated_seconds)
        return ma->estimated_seconds > mb->estimated_seconds ? -1 : 1;
    return g_strcmp0(ma->vm, mb->vm);
}

void
exec_sort_pending(Exec *ex)
{
    g_ptr_array_sort(ex->pending, exec_cmp_longest);
}

void
exec_settle(Exec *ex, ExecMove *m)
{
    VbExecOutcome *o = g_new0(VbExecOutcome, 1);
    VbExecReport *r = ex->report;

    o->vm = g_strdup(m->vm);
    o->from = g_strdup(m->from);
    o->to = g_strdup(m->to);
    o->kind = m->kind;
    o->state = m->state;
    o->attempts = m->attempts;
    o->started_clock = m->attempts ? m->started_clock : -1;
    o->ended_clock = exec_now(ex);
    o->message = g_strdup(m->message);
    g_ptr_array_add(r->outcomes, o);
    r->finished += m->state == VB_MOVE_STATE_FINISHED;
    r->failed += m->state == VB_MOVE_STATE_FAILED;
    r->aborted += m->state == VB_MOVE_STATE_ABORTED;
    r->skipped += m->state == VB_MOVE_STATE_SKIPPED;
    if (m->state != VB_MOVE_STATE_SKIPPED)
        g_hash_table_add(ex->settled, g_strdup(m->vm));
}

/* ------------------------------------------------------------------- caps */

static guint
cap(guint value)
{
    return value ? value : G_MAXUINT;
}

static guint
exec_total_cap(Exec *ex)
{
    const VbMigrationSettings *s = &ex->opts->policy->migration;

    if (ex->kind == VB_PLAN_EVACUATE)
        return MIN(cap(s->max_total), cap(s->evacuation_batch));
    return cap(s->max_total);
}

static gint
host_pool(const VbInventory *inv, const char *name)
{
    const VbHost *host = vb_inventory_get_host(inv, name);

    return host ? (gint) host->pool : -1;
}

/* TRUE when starting @m now keeps every cap. */
static gboolean
exec_caps_allow(Exec *ex, const VbInventory *inv, const ExecMove *m)
{
    const VbMigrationSettings *s = &ex->opts->policy->migration;
    guint from = 0, to = 0, storage_from = 0, storage_to = 0;
    gint pool_from = host_pool(inv, m->from), pool_to = host_pool(inv, m->to);
    gboolean storage = m->kind == VB_MOVE_LIVE_STORAGE;

    if (ex->running->len >= exec_total_cap(ex))
        return FALSE;
    for (guint i = 0; i < ex->running->len; i++) {
        const ExecMove *r = g_ptr_array_index(ex->running, i);
        gint rp_from = host_pool(inv, r->from), rp_to = host_pool(inv, r->to);

        from += g_str_equal(r->from, m->from);
        to += g_str_equal(r->to, m->to);
        if (storage && r->kind == VB_MOVE_LIVE_STORAGE) {
            storage_from += rp_from == pool_from || rp_to == pool_from;
            storage_to += rp_from == pool_to || rp_to == pool_to;
        }
    }
    if (from >= cap(s->max_per_source) || to >= cap(s->max_per_destination))
        return FALSE;
    return !storage || MAX(storage_from, storage_to) < cap(s->max_storage_per_pool);
}

/* ---------------------------------------------------------------- polling */

/* An attempt failed: back in the queue while retries are left. */
static gboolean
exec_attempt_failed(Exec *ex, ExecMove *m, const char *why, GError **error)
{
    if (m->attempts <= ex->opts->policy->migration.max_retries) {
        if (!exec_set_state(ex, m, VB_MOVE_STATE_QUEUED, VB_EXEC_RETRY, why, error))
            return FALSE;
        g_ptr_array_add(ex->pending, m);
        exec_sort_pending(ex);
        return TRUE;
    }
    if (!exec_set_state(ex, m, VB_MOVE_STATE_FAILED, VB_EXEC_FAILED, why, error))
        return FALSE;
    exec_settle(ex, m);
    return TRUE;
}

static gboolean
exec_finished(Exec *ex, ExecMove *m, GError **error)
{
    if (!exec_set_state(ex, m, VB_MOVE_STATE_FINISHED, VB_EXEC_FINISHED, NULL, error))
        return FALSE;
    if (ex->kind == VB_PLAN_EVACUATE && ex->opts->journal &&
        !vb_journal_evacuated_add(ex->opts->journal, m->vm, m->from, m->to, ex->plan_id, error))
        return FALSE;
    exec_settle(ex, m);
    return TRUE;
}

/* TRUE when the driver finds @m's guest defined on its destination and not
 * on its source: the migration landed whatever its job said. */
static gboolean
exec_landed(Exec *ex, const ExecMove *m)
{
    g_autoptr(GPtrArray) locs = ex->opts->ops->locate(ex->opts->conn, m->vm, NULL);
    gboolean on_to = FALSE, on_from = FALSE;

    for (guint i = 0; locs && i < locs->len; i++) {
        const VbVmLocation *loc = g_ptr_array_index(locs, i);

        on_to |= g_strcmp0(loc->host, m->to) == 0 && loc->persistent;
        on_from |= g_strcmp0(loc->host, m->from) == 0;
    }
    return on_to && !on_from;
}

/* TRUE when @error says a host did not answer (no reply before its deadline,
 * or no connection): what it did meanwhile is unknown. */
gboolean
exec_error_unreachable(const GError *error)
{
    return g_error_matches(error, VB_ERROR, VB_ERROR_TIMEOUT) ||
           g_error_matches(error, VB_ERROR, VB_ERROR_CONNECT);
}

/* A move whose end nobody can tell now (its source stopped answering): it
 * is journaled started with @why, so the next run reconciles it against the
 * hosts once they answer; it leaves the run (its slot is free for the other
 * moves, which go on) and the plan stays unfinished. */
gboolean
exec_leave_unknown(Exec *ex, ExecMove *m, const char *why, GError **error)
{
    if (!exec_set_state(ex, m, VB_MOVE_STATE_STARTED, VB_EXEC_UNKNOWN, why, error))
        return FALSE;
    exec_settle(ex, m);
    ex->report->unknown++;
    return TRUE;
}

/* How a move whose abort was asked for ended: a migration that landed
 * anyway (the abort came too late, or the driver lost track of its end) is
 * recorded as finished, the driver's locate being the truth; otherwise it
 * is aborted and the guest is on its source. */
static gboolean
exec_abort_settle(Exec *ex, ExecMove *m, gboolean completed, const char *why, GError **error)
{
    if (completed || exec_landed(ex, m))
        return exec_finished(ex, m, error);
    if (m->state != VB_MOVE_STATE_ABORTED &&
        !exec_set_state(ex, m, VB_MOVE_STATE_ABORTED, VB_EXEC_EVENT_LAST, why, error))
        return FALSE;
    exec_emit(ex, m, VB_EXEC_ABORTED, 0, why);
    exec_settle(ex, m);
    return TRUE;
}

/* Past its time limit (or the drain limit): journaled, then aborted; the
 * guest stays on its source. An abort the driver refuses while the migration
 * goes on (libvirt refuses one once post-copy has begun; an unreachable
 * source) does not end the move: it is journaled as started again (a crash
 * now is reconciled against the hosts, not taken for an abort), keeps its
 * slot, and its end decides (@ret_kept TRUE: it stays in the running set).
 * An abort that gets no answer (the source does not answer) leaves the move
 * unknown (exec_leave_unknown): waiting would hold the run for as long as
 * the host hangs. */
gboolean
exec_abort(Exec *ex, ExecMove *m, const char *why, gboolean *ret_kept, GError **error)
{
    const VbDriverOps *ops = ex->opts->ops;
    g_autoptr(GError) local = NULL;
    g_autofree char *waiting = NULL;
    VbJobInfo info = { 0 };
    gboolean aborted, polled, completed, running;

    *ret_kept = FALSE;
    if (!exec_set_state(ex, m, VB_MOVE_STATE_ABORTED, VB_EXEC_EVENT_LAST, why, error))
        return FALSE;
    aborted = ops->job_abort(ex->opts->conn, m->job, &local);
    if (!aborted)
        g_debug("abort of %s: %s", m->vm, local ? local->message : "?");
    polled = ops->job_poll(ex->opts->conn, m->job, &info, NULL);
    completed = polled && info.state == VB_JOB_COMPLETED;
    running = polled && info.state == VB_JOB_RUNNING;
    vb_job_info_clear(&info);
    if (!running || exec_landed(ex, m))
        return exec_abort_settle(ex, m, completed, why, error);
    if (!aborted && exec_error_unreachable(local)) {
        g_autofree char *unknown = g_strdup_printf("%s; the abort got no answer (%s): its end is "
                                                   "unknown, left started for the next run to "
                                                   "reconcile once the host answers",
                                                   why, local->message);

        return exec_leave_unknown(ex, m, unknown, error);
    }
    /* Refused, or accepted but not yet effective (libvirt's abort is
     * asynchronous, and one that comes during the switch-over may not stop
     * it): the job's end decides. */
    waiting = aborted ? g_strdup_printf("%s; abort asked, waiting for the migration to stop", why)
                      : g_strdup_printf("%s; the abort was refused (%s): the migration goes on",
                                        why, local ? local->message : "no reason given");
    if (!exec_set_state(ex, m, VB_MOVE_STATE_STARTED, VB_EXEC_EVENT_LAST, waiting, error))
        return FALSE;
    m->abort_refused = TRUE;
    m->abort_clock = exec_now(ex);
    *ret_kept = TRUE;
    return TRUE;
}

/* A move whose abort was refused and whose migration still runs past
 * VB_EXEC_ABORT_REFUSED_WAIT_SECONDS: the run ends with an error, the move
 * journaled as started, so the next run re-attaches or finds where it went. */
static gboolean
exec_abort_refused_too_long(Exec *ex, const ExecMove *m, GError **error)
{
    if (!m->abort_refused || exec_now(ex) - m->abort_clock <= VB_EXEC_ABORT_REFUSED_WAIT_SECONDS)
        return FALSE;
    g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION,
                "%s: the migration to %s still runs %.0f s after its abort was refused; "
                "the plan is left unfinished for the next run to reconcile",
                m->vm, m->to, exec_now(ex) - m->abort_clock);
    return TRUE;
}

/* Polls one running move (index @i of the running set). A move whose
 * migration ended leaves the running set before its end is handled, so
 * events report the slots really in use; @ret_done says it left. */
static gboolean
exec_poll_one(Exec *ex, guint i, gboolean *ret_done, GError **error)
{
    const VbExecOptions *o = ex->opts;
    ExecMove *m = g_ptr_array_index(ex->running, i);
    g_autoptr(GError) local = NULL;
    VbJobInfo info = { 0 };
    double elapsed = exec_now(ex) - m->started_clock;
    guint timeout = o->policy->migration.timeout_seconds;
    gboolean polled = o->ops->job_poll(o->conn, m->job, &info, &local);
    gboolean timed_out = timeout > 0 && elapsed > timeout && !m->abort_refused;
    gboolean ok = TRUE, kept = FALSE;

    *ret_done = !polled || info.state != VB_JOB_RUNNING || timed_out;
    if (!*ret_done) {
        m->remaining_mib = info.remaining_mib;
        vb_job_info_clear(&info);
        if (exec_abort_refused_too_long(ex, m, error))
            return FALSE;
        exec_emit(ex, m, VB_EXEC_PROGRESS, info.progress, NULL);
        return TRUE;
    }
    if (polled && info.state == VB_JOB_RUNNING) {
        g_autofree char *why = g_strdup_printf("%s: migration still running after %.0f s "
                                               "(timeout %u s): aborted, guest stays on %s",
                                               m->vm, elapsed, timeout, m->from);

        vb_job_info_clear(&info);
        g_ptr_array_remove_index(ex->running, i);
        ok = exec_abort(ex, m, why, &kept, error);
        *ret_done = !kept;
        if (kept) {
            g_ptr_array_insert(ex->running, (gint) i, m);
            return ok;
        }
    } else {
        g_ptr_array_remove_index(ex->running, i);
        if (m->abort_refused)
            ok = exec_abort_settle(ex, m, polled && info.state == VB_JOB_COMPLETED,
                                   "the migration ended after its abort was asked for", error);
        else if (!polled)
            ok = exec_attempt_failed(ex, m, local->message, error);
        else if (info.state == VB_JOB_COMPLETED)
            ok = exec_finished(ex, m, error);
        else if (exec_landed(ex, m))
            /* A job reported failed after the guest switched over (an error
             * in the last step): the hosts are the truth; retrying would
             * find it gone from its source and skip it. */
            ok = exec_finished(ex, m, error);
        else
            ok = exec_attempt_failed(ex, m, info.message ? info.message : "migration failed",
                                     error);
        vb_job_info_clear(&info);
    }
    o->ops->job_free(m->job);
    m->job = NULL;
    return ok;
}

static gboolean
exec_poll_running(Exec *ex, GError **error)
{
    for (guint i = 0; i < ex->running->len;) {
        gboolean done = FALSE;

        if (!exec_poll_one(ex, i, &done, error))
            return FALSE;
        if (!done)
            i++;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- starting */

/* Journals, then starts @m; a refused start counts as a failed attempt. */
static gboolean
exec_start(Exec *ex, VbInventory *inv, ExecMove *m, GError **error)
{
    const VbExecOptions *o = ex->opts;
    g_autoptr(GError) local = NULL;
    VbMigrationRequest req = { 0 };

    m->attempts++;
    m->started_clock = exec_now(ex);
    m->remaining_mib = 0;
    if (!exec_set_state(ex, m, VB_MOVE_STATE_STARTED, VB_EXEC_EVENT_LAST, NULL, error))
        return FALSE;
    req.vm = m->vm;
    req.from = m->from;
    req.to = m->to;
    req.live = m->kind != VB_MOVE_COLD;
    req.copy_storage = m->kind != VB_MOVE_LIVE;
    req.settings = &o->policy->migration;
    m->job = o->ops->migrate_start(o->conn, &req, &local);
    if (!m->job)
        return exec_attempt_failed(ex, m, local->message, error);
    g_ptr_array_add(ex->running, m);
    ex->n_starts++;
    ex->report->max_running = MAX(ex->report->max_running, ex->running->len);
    exec_apply_move(inv, m, exec_now_unix(ex));
    exec_emit(ex, m, VB_EXEC_STARTED, 0, NULL);
    return TRUE;
}

/* ------------------------------------------------------------ ordering */

/* Host name -> the earliest queued or running move leaving it. */
static GHashTable *
exec_first_leaving(Exec *ex)
{
    GHashTable *first = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *sets[] = { ex->pending, ex->running };

    for (guint s = 0; s < G_N_ELEMENTS(sets); s++) {
        for (guint i = 0; i < sets[s]->len; i++) {
            ExecMove *m = g_ptr_array_index(sets[s], i);
            ExecMove *seen = g_hash_table_lookup(first, m->from);

            if (!seen || m->seq < seen->seq)
                g_hash_table_insert(first, m->from, m);
        }
    }
    return first;
}

/* TRUE when @m must wait for an earlier move of its plan that is still queued
 * or running: a rebalance may count on room that an earlier move frees, so
 * longest-first never overtakes such an earlier move (vb_move_waits_for). The
 * earliest move leaving each host decides, which is equivalent since the rule
 * depends only on the hosts and the order. */
static gboolean
exec_waits(Exec *ex, const VbInventory *inv, GHashTable *first, const ExecMove *m)
{
    const char *hosts[] = { m->to, m->from };

    for (guint i = 0; i < G_N_ELEMENTS(hosts); i++) {
        const ExecMove *e = g_hash_table_lookup(first, hosts[i]);
        const VbHost *lf = vb_inventory_get_host(inv, m->from);
        const VbHost *lt = vb_inventory_get_host(inv, m->to);
        const VbHost *ef = e ? vb_inventory_get_host(inv, e->from) : NULL;
        VbMove later, earlier;

        if (!e || e == m || e->seq > m->seq || !lf || !lt || !ef)
            continue;
        later = (VbMove) { .from = lf->id, .to = lt->id, .kind = m->kind };
        earlier = (VbMove) { .from = ef->id, .kind = e->kind };
        if (vb_move_waits_for(ex->kind, &later, &earlier))
            return TRUE;
    }
    return FALSE;
}

/* One pass over the queue against @inv; a move that no longer fits is
 * skipped and its guest marked for re-planning. A stop request ends the
 * pass before the next start. */
static gboolean
exec_fill_pass(Exec *ex, VbInventory *inv, GError **error)
{
    g_autoptr(GHashTable) first = exec_first_leaving(ex);

    for (guint i = 0; i < ex->pending->len && ex->running->len < exec_total_cap(ex) &&
                      !exec_stop_requested(ex);) {
        ExecMove *m = g_ptr_array_index(ex->pending, i);
        g_autofree char *why = NULL;

        if (exec_waits(ex, inv, first, m) || !exec_caps_allow(ex, inv, m)) {
            i++;
            continue;
        }
        g_ptr_array_remove_index(ex->pending, i);
        why = exec_recheck(ex, inv, m);
        if (why) {
            const VbHost *from = vb_inventory_get_host(inv, m->from);

            if (!exec_set_state(ex, m, VB_MOVE_STATE_SKIPPED, VB_EXEC_SKIPPED, why, error))
                return FALSE;
            exec_settle(ex, m);
            /* Nothing to re-plan from a source that cannot be read; the
             * guest stays there, which the report counts as a failure. An
             * approved plan is run as reviewed: a skip is final. */
            if (from && from->state == VB_HOST_STATE_DOWN)
                ex->report->host_down++;
            else if (!ex->opts->no_replan)
                g_ptr_array_add(ex->replan, g_strdup(m->vm));
            continue;
        }
        if (!exec_start(ex, inv, m, error))
            return FALSE;
        if (ex->opts->crash_after_starts && ex->n_starts >= ex->opts->crash_after_starts) {
            ex->report->interrupted = TRUE;
            return TRUE;
        }
    }
    return TRUE;
}

/* No fresh state: nothing starts this round (a host may be reconnecting);
 * the run gives up only after several failures in a row. */
static gboolean
exec_snapshot_failed(Exec *ex, GError **error)
{
    if (++ex->snapshot_failures >= VB_EXEC_MAX_SNAPSHOT_FAILURES) {
        g_prefix_error(error, "no fresh state of the pool after %u tries: ",
                       ex->snapshot_failures);
        return FALSE;
    }
    g_debug("no fresh state (try %u): %s", ex->snapshot_failures,
            error && *error ? (*error)->message : "?");
    g_clear_error(error);
    return TRUE;
}

/* Fills free slots; re-plans skipped guests and fills again with the result. */
static gboolean
exec_fill(Exec *ex, GError **error)
{
    for (guint round = 0; round < 4; round++) {
        g_autoptr(VbInventory) inv = NULL;

        if (ex->pending->len == 0 || ex->running->len >= exec_total_cap(ex))
            return TRUE;
        inv = exec_fresh_state(ex, error);
        if (!inv)
            return exec_snapshot_failed(ex, error);
        ex->snapshot_failures = 0;
        if (!exec_fill_pass(ex, inv, error))
            return FALSE;
        if (ex->report->interrupted || ex->replan->len == 0)
            return TRUE;
        g_clear_pointer(&inv, vb_inventory_free);
        inv = exec_fresh_state(ex, error);
        if (!inv)
            return exec_snapshot_failed(ex, error);
        if (!exec_replan(ex, inv, error))
            return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------- loop */

static const char *
exec_outcome_text(const VbExecReport *r)
{
    if (r->stopped)
        return "stopped";
    return r->failed + r->aborted + r->unplaced > 0 ? "done with failures" : "done";
}

VbExecReport *
exec_loop(Exec *ex, GError **error)
{
    double poll = ex->opts->poll_seconds > 0 ? ex->opts->poll_seconds : 1.0;
    VbExecReport *report;

    exec_sort_pending(ex);
    while (ex->pending->len > 0 || ex->running->len > 0) {
        if (!exec_poll_running(ex, error))
            return NULL;
        if (exec_stop_requested(ex)) {
            if (!exec_drain(ex, error))
                return NULL;
        } else if (!exec_fill(ex, error)) {
            return NULL;
        }
        if (ex->report->interrupted)
            break;
        if (ex->running->len == 0 && ex->pending->len == 0)
            break;
        ex->opts->ops->sleep(ex->opts->conn, poll);
    }
    ex->report->ended_clock = exec_now(ex);
    if (ex->report->unknown > 0)
        ex->report->interrupted = TRUE; /* the plan stays unfinished: reconciled next run */
    if (ex->report->interrupted)
        exec_report_running(ex);
    if (!ex->report->interrupted && ex->opts->journal &&
        !vb_journal_plan_end(ex->opts->journal, ex->plan_id, exec_outcome_text(ex->report), error))
        return NULL;
    report = g_steal_pointer(&ex->report);
    ex->report = g_new0(VbExecReport, 1);
    return report;
}

VbExecReport *
vb_executor_run(const VbExecOptions *opts, const VbInventory *inv, const VbPlan *plan,
                GError **error)
{
    Exec *ex;
    VbExecReport *report = NULL;
    gboolean ok = TRUE;

    g_return_val_if_fail(opts && opts->ops && opts->conn && opts->policy && plan, NULL);
    ex = exec_new(opts, plan->kind, plan->evacuated_host);
    if (opts->journal)
        ok = vb_journal_plan_begin(opts->journal, plan->kind, plan->evacuated_host,
                                   &ex->plan_id, error);
    for (guint i = 0; ok && i < plan->moves->len; i++) {
        const VbMove *mv = &g_array_index(plan->moves, VbMove, i);

        ok = exec_queue(ex, vb_inventory_vm(inv, mv->vm)->name,
                        vb_inventory_host(inv, mv->from)->name,
                        vb_inventory_host(inv, mv->to)->name, mv->kind, mv->estimated_seconds,
                        error);
    }
    if (ok)
        report = exec_loop(ex, error);
    exec_free(ex);
    return report;
}

char *
vb_exec_event_describe(const VbExecEvent *ev)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "[%8.1f s] %-8s %s %s -> %s (%s", ev->clock,
                           vb_exec_event_names[ev->kind], ev->vm, ev->from, ev->to,
                           vb_move_kind_names[ev->move_kind]);
    if (ev->kind == VB_EXEC_PROGRESS)
        g_string_append_printf(s, ", %.0f%%, %.0f/%.0f s", ev->progress * 100,
                               ev->elapsed_seconds, ev->estimated_seconds);
    else if (ev->attempt > 1)
        g_string_append_printf(s, ", attempt %u", ev->attempt);
    g_string_append_printf(s, ", %u running)", ev->n_running);
    if (ev->message)
        g_string_append_printf(s, ": %s", ev->message);
    return g_string_free(s, FALSE);
}
