/*
 * executor-priv.h: what the executor's files share (executor.c: the window
 * loop and caps; exec-fresh.c: re-checks and re-planning against fresh
 * state; exec-stop.c: stopping and draining on request; reconcile.c:
 * resuming a journaled plan after a crash).
 */
#pragma once

#include "scheduler/scheduler.h"

/* One move as the executor tracks it. Names, not ids: every fresh snapshot
 * may number hosts and guests differently. */
typedef struct {
    char *vm, *from, *to;
    VbMoveKind kind;
    double estimated_seconds;
    gint64 journal_id;        /* 0 when there is no journal */
    guint attempts;           /* starts so far */
    VbMoveState state;
    VbJob *job;               /* while started */
    double started_clock;     /* of the current attempt */
    char *message;
    guint seq;                /* queue order: plans are ordered (vb_move_waits_for) */
    gboolean abort_refused;   /* past its timeout, the abort was refused: the
                               * migration still runs and holds its slot */
    double abort_clock;       /* when that abort was asked for */
    guint64 remaining_mib;    /* data left at the last poll of this attempt; 0:
                               * not known (not polled yet, or the driver cannot say) */
} ExecMove;

typedef struct {
    const VbExecOptions *opts;
    VbPlanKind kind;
    char *evacuated_host;     /* evacuate plans: the host being emptied */
    gint64 plan_id;           /* journal plan, 0 without journal */
    GPtrArray *moves;         /* owned ExecMove *, every move ever queued */
    GPtrArray *pending;       /* borrowed: queued, longest estimate first */
    GPtrArray *running;       /* borrowed: started, in start order */
    GPtrArray *replan;        /* owned vm names skipped and to be re-planned */
    GHashTable *settled;      /* vm names moved or given up: never re-planned */
    GHashTable *skips;        /* vm name -> times skipped (bounds re-planning) */
    VbExecReport *report;
    guint n_starts;
    guint snapshot_failures;  /* in a row; the run gives up at VB_EXEC_MAX_SNAPSHOT_FAILURES */
} Exec;

#define VB_EXEC_MAX_SNAPSHOT_FAILURES 5
/* How long a migration whose abort was refused is waited for before the run
 * gives up, leaving it journaled as started for the next run to reconcile. */
#define VB_EXEC_ABORT_REFUSED_WAIT_SECONDS 600.0

void exec_move_free(ExecMove *move);
/* Adds a queued move (journaled first). */
gboolean exec_queue(Exec *ex, const char *vm, const char *from, const char *to,
                    VbMoveKind kind, double estimated_seconds, GError **error);
/* Journals a state change and emits the event. */
gboolean exec_set_state(Exec *ex, ExecMove *m, VbMoveState state, VbExecEventKind kind,
                        const char *message, GError **error);
void exec_emit(Exec *ex, const ExecMove *m, VbExecEventKind kind, double progress,
               const char *message);
void exec_sort_pending(Exec *ex);
double exec_now(Exec *ex);
/* Ends a move for good (finished, failed, aborted, skipped) into the report. */
void exec_settle(Exec *ex, ExecMove *m);
gboolean exec_error_unreachable(const GError *error);
gboolean exec_leave_unknown(Exec *ex, ExecMove *m, const char *why, GError **error);

/* exec-fresh.c */
/* A fresh snapshot with the maintenance set and the running moves applied,
 * as if they had landed (transfer full). */
VbInventory *exec_fresh_state(Exec *ex, GError **error);
/* Applies a started move to @inv (guest moved, loads shifted). */
void exec_apply_move(VbInventory *inv, const ExecMove *m, gint64 now_unix);
/* NULL when @m still fits @inv, else why not (transfer full). */
char *exec_recheck(Exec *ex, VbInventory *inv, const ExecMove *m);
/* Re-plans the queued and skipped guests on @inv. */
gboolean exec_replan(Exec *ex, VbInventory *inv, GError **error);
gint64 exec_now_unix(Exec *ex);

/* executor.c: aborts @m (journaled first); @ret_kept TRUE when the abort
 * was refused or has not taken effect and the move keeps its slot. */
gboolean exec_abort(Exec *ex, ExecMove *m, const char *why, gboolean *ret_kept,
                    GError **error);

/* exec-stop.c */
/* TRUE once a stop was requested (opts->stop set). */
gboolean exec_stop_requested(Exec *ex);
/* Handles a stop at one turn of the loop: drops the queue (journaled
 * skipped) the first time, aborts the running moves past the drain limit or
 * on a second signal. FALSE only when the journal fails. */
gboolean exec_drain(Exec *ex, GError **error);
/* Adds the moves still running to the report, state started. */
void exec_report_running(Exec *ex);

/* executor.c: the loop, shared by run and resume. */
VbExecReport *exec_loop(Exec *ex, GError **error);
Exec *exec_new(const VbExecOptions *opts, VbPlanKind kind, const char *evacuated_host);
void exec_free(Exec *ex);
