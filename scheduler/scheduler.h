/*
 * scheduler.h: acting on plans.
 *
 * Two parts:
 * - the journal (journal.c, journal-state.c): every plan and every move's
 *   state change, written to SQLite BEFORE the executor acts on it; the lock
 *   that lets one virt-balancer act on a pool at a time; the hosts in
 *   maintenance and the guests evacuated from them. Only the journal speaks
 *   sqlite3 here; callers see VB_ERROR_DATABASE / VB_ERROR_BUSY.
 * - the executor (executor.c, exec-fresh.c, reconcile.c): runs a plan's moves
 *   as a sliding window under the policy's caps, longest first, re-checking
 *   each move against a fresh snapshot right before it starts, re-planning
 *   what no longer fits, aborting migrations past their timeout, retrying
 *   failures, and, after a crash, reconciling the journal with what the hosts
 *   really hold and finishing the plan.
 *
 * The executor uses a driver only through VbDriverOps, including its clock
 * (now/sleep): with the sim driver an hour of migrations runs in
 * milliseconds of virtual time, with libvirt it runs in real time.
 */
#pragma once

#include <glib.h>

#include "collectors/collectors.h"
#include "drivers/drivers.h"
#include "placement/placement.h"
#include "policies/policies.h"
#include "pool/pool.h"

G_BEGIN_DECLS

/* ---------------------------------------------------------------- journal */

typedef enum {
    VB_MOVE_STATE_QUEUED,   /* planned, not started */
    VB_MOVE_STATE_STARTED,  /* migration in flight */
    VB_MOVE_STATE_FINISHED, /* the guest runs on the destination */
    VB_MOVE_STATE_FAILED,   /* gave up (after retries); guest on its source */
    VB_MOVE_STATE_ABORTED,  /* aborted past its timeout; guest on its source */
    VB_MOVE_STATE_SKIPPED,  /* no longer fits, or re-planned elsewhere */
    VB_MOVE_STATE_LAST
} VbMoveState;

/* "queued", "started", "finished", "failed", "aborted", "skipped", NULL */
extern const char *const vb_move_state_names[];

typedef struct _VbJournal VbJournal;

/* The journal in @store (borrowed; it must outlive the journal). Applies the
 * "journal" schema (vb_store_migrate). NULL with VB_ERROR_DATABASE on
 * failure. */
VbJournal *vb_journal_open(VbStore *store, GError **error);
/* Releases the lock when held. Accepts NULL. */
void vb_journal_free(VbJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbJournal, vb_journal_free)

VbStore *vb_journal_store(VbJournal *journal);

/* Takes the acting lock: one row holding pid, process start time, boot id,
 * hostname and a token. A row left on this host by a process that is gone
 * (other boot, pid dead or reused) is stale and taken over. Held by another
 * live process, another journal of this process, or a process on another
 * host (which cannot be checked from here, so it always counts as alive):
 * FALSE with VB_ERROR_BUSY naming the holder. Taking it again through the
 * same journal is a no-op. */
gboolean vb_journal_lock(VbJournal *journal, GError **error);
void vb_journal_unlock(VbJournal *journal);

/* Who held the lock vb_journal_lock_break removed. */
typedef struct {
    gboolean found;            /* there was a lock row */
    gboolean alive;            /* its holder runs, or runs on another host */
    gint64 pid;
    char *hostname;            /* owned, may be NULL */
} VbJournalLockHolder;

/* Removes the lock row whoever holds it (`virt-balancer unlock`). Without
 * @force a holder that is alive (this host) or cannot be checked (another
 * host) keeps it: FALSE with VB_ERROR_BUSY naming it; a stale row, or none,
 * is removed (TRUE). @ret_holder (may be NULL; its hostname is transfer
 * full) says what was removed. */
gboolean vb_journal_lock_break(VbJournal *journal, gboolean force,
                               VbJournalLockHolder *ret_holder, GError **error);
gboolean vb_journal_is_locked(const VbJournal *journal);

/* One journaled move. */
typedef struct {
    gint64 id;
    gint64 plan;
    char *vm, *from, *to;      /* names */
    VbMoveKind kind;
    double estimated_seconds;
    VbMoveState state;
    guint attempts;            /* starts so far */
    char *message;             /* last failure, skip or abort reason, or NULL */
    double started_clock;      /* driver clock of the last start, < 0 none */
    double ended_clock;        /* driver clock of the end, < 0 none */
} VbJournalMove;

typedef struct {
    gint64 id;
    VbPlanKind kind;
    char *evacuated_host;      /* evacuate: the host, else NULL */
    gint64 created_us;         /* wall clock */
    gint64 ended_us;           /* 0 while unfinished */
    char *outcome;             /* "done", "failed: ...", NULL while unfinished */
    GPtrArray *moves;          /* owned VbJournalMove *, in journal order */
} VbJournalPlan;

void vb_journal_move_free(VbJournalMove *move);
void vb_journal_plan_free(VbJournalPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbJournalPlan, vb_journal_plan_free)

/* Records a new plan (no moves yet); its id in @ret_plan. */
gboolean vb_journal_plan_begin(VbJournal *journal, VbPlanKind kind,
                               const char *evacuated_host, gint64 *ret_plan,
                               GError **error);
/* Marks the plan ended with @outcome. */
gboolean vb_journal_plan_end(VbJournal *journal, gint64 plan, const char *outcome,
                             GError **error);
/* Records a queued move of @plan; its id in @ret_move. */
gboolean vb_journal_move_add(VbJournal *journal, gint64 plan, const char *vm,
                             const char *from, const char *to, VbMoveKind kind,
                             double estimated_seconds, gint64 *ret_move, GError **error);
/* Records a state change of @move at driver time @clock (one event row and
 * the move's current state, in one transaction). @attempt is the start
 * number it belongs to (1-based). */
gboolean vb_journal_move_set_state(VbJournal *journal, gint64 move, VbMoveState state,
                                   guint attempt, double clock, const char *message,
                                   GError **error);

/* The most recent plan that has not ended (transfer full), or NULL without
 * an error when every plan ended. */
VbJournalPlan *vb_journal_unfinished_plan(VbJournal *journal, GError **error);
/* The @limit most recent plans, newest first, with their moves (transfer
 * full GPtrArray of VbJournalPlan *). */
GPtrArray *vb_journal_history(VbJournal *journal, guint limit, GError **error);

/* One state change, as journaled. */
typedef struct {
    gint64 move;
    char *vm, *from, *to;
    VbMoveKind kind;
    VbMoveState state;
    guint attempt;
    double clock;
    char *message;
} VbJournalEvent;

void vb_journal_event_free(VbJournalEvent *event);
/* Every state change of @plan in the order written (transfer full GPtrArray
 * of VbJournalEvent *). */
GPtrArray *vb_journal_events(VbJournal *journal, gint64 plan, GError **error);

/* Measured costs (journal-costs.c). A finished live migration's duration,
 * from its last start to its end on the driver's clock. */
typedef struct {
    char *vm, *from, *to;
    VbMoveKind kind;           /* live or live-storage */
    double seconds;
} VbJournalDuration;

void vb_journal_duration_free(VbJournalDuration *d);
/* The @limit newest finished live and live-storage migrations, newest first
 * (transfer full GPtrArray of VbJournalDuration *). Left out: moves found
 * finished by reconciliation (their end is when a restart noticed), and
 * durations not in (0 s, 1 day]. */
GPtrArray *vb_journal_durations(VbJournal *journal, guint limit, GError **error);
/* Finished migrations the costs are measured from, at most. */
#define VB_JOURNAL_COSTS_LIMIT 500
/* vb_placement_calibrate() over the journal's durations, each measured
 * against @inv (MiB moved: the guest's memory, plus its copied disks for
 * live-storage; migrations of guests or hosts @inv lacks are left out)
 * (transfer full). NULL with VB_ERROR_DATABASE when the journal cannot be
 * read. */
VbCalibration *vb_scheduler_costs_calibrate(VbJournal *journal, const VbInventory *inv,
                                            const VbPolicy *policy, GError **error);
/* The same, written into @inv->costs for the estimate
 * (vb_placement_calibration_apply). */
gboolean vb_scheduler_apply_costs(VbInventory *inv, VbJournal *journal, const VbPolicy *policy,
                                  GError **error);

/* Recent moves (journal-recent.c), for the cooldown and the daily move cap:
 * per guest, its newest migration the journal knows and how many it had in
 * the last 24 h. A migration is a move journaled finished (at its finished
 * event) or still started (at its newest start: running, or its end unknown,
 * so it may have moved); failed, aborted, skipped and queued ones are not. */
typedef struct {
    char *vm;                  /* guest name */
    gint64 last_unix;          /* the newest, unix seconds (at most now) */
    guint moves_last_day;      /* those at or after now - 24 h */
} VbJournalRecent;

/* Events older than this are not read: at least the longest cooldown a
 * policy may set (30 days). */
#define VB_JOURNAL_RECENT_SECONDS (30 * 86400)

void vb_journal_recent_free(VbJournalRecent *r);
/* Every guest with a migration in the VB_JOURNAL_RECENT_SECONDS before
 * @now_unix (or later), sorted by name (transfer full GPtrArray of
 * VbJournalRecent *). NULL with VB_ERROR_DATABASE when the journal cannot
 * be read. */
GPtrArray *vb_journal_recent_moves(VbJournal *journal, gint64 now_unix, GError **error);
/* Writes them into @inv: each guest's last_migrated and moves_last_day
 * become the larger of the snapshot's (the driver's) and the journal's.
 * Guests @inv lacks are skipped. FALSE with VB_ERROR_DATABASE, @inv
 * unchanged, when the journal cannot be read. */
gboolean vb_scheduler_apply_recent_moves(VbInventory *inv, VbJournal *journal, gint64 now_unix,
                                         GError **error);

/* Counted over the whole journal (journal-totals.c), for the metrics. */
typedef struct {
    guint64 moves[VB_MOVE_STATE_LAST][VB_MOVE_KIND_LAST]; /* moves per current state, kind */
    GArray *seconds[VB_MOVE_KIND_LAST]; /* double: each finished move's duration, on the
                                         * driver's clock (reconciled ones and those
                                         * outside (0 s, 1 day] left out) */
} VbJournalTotals;

/* Fills @ret_totals (clear it with vb_journal_totals_clear); on failure
 * FALSE with VB_ERROR_DATABASE and @ret_totals untouched. */
gboolean vb_journal_totals(VbJournal *journal, VbJournalTotals *ret_totals, GError **error);
/* Frees the arrays and zeroes @totals; accepts NULL. */
void vb_journal_totals_clear(VbJournalTotals *totals);

/* Maintenance: a host stays in maintenance until it is taken out. */
gboolean vb_journal_maintenance_enter(VbJournal *journal, const char *host,
                                      const char *reason, GError **error);
/* @ret_was (may be NULL) says whether it was in maintenance. */
gboolean vb_journal_maintenance_exit(VbJournal *journal, const char *host,
                                     gboolean *ret_was, GError **error);
/* The hosts in maintenance (transfer full, NULL-terminated, sorted). */
char **vb_journal_maintenance_hosts(VbJournal *journal, GError **error);
/* Sets every host of @hosts present in @inv to MAINTENANCE (unless down). */
void vb_scheduler_apply_maintenance(VbInventory *inv, char *const *hosts);

/* One host of the maintenance set, as recorded. */
typedef struct {
    char *host;      /* host name */
    gint64 since_us; /* when it entered (unix microseconds) */
    char *reason;    /* why, as given to vb_journal_maintenance_enter (may be NULL) */
} VbMaintenance;

/* Accepts NULL. */
void vb_maintenance_free(VbMaintenance *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbMaintenance, vb_maintenance_free)
/* The maintenance set with reasons, sorted by host (transfer full GPtrArray
 * of VbMaintenance *). NULL with VB_ERROR_DATABASE when it cannot be read. */
GPtrArray *vb_journal_maintenance_list(VbJournal *journal, GError **error);
/* Marks every host of @list (VbMaintenance *) present in @inv as in
 * maintenance, its state_reason the recorded reason. A host the snapshot has
 * down (it could not be read) is in maintenance too, its reason saying both:
 * an admin who took it out of service expects it unreachable, so it is no
 * longer counted as a part of the pool that could not be read. */
void vb_scheduler_apply_maintenance_list(VbInventory *inv, const GPtrArray *list);

/* Evacuations: where each evacuated guest went, for moving it back. */
gboolean vb_journal_evacuated_add(VbJournal *journal, const char *vm, const char *from,
                                  const char *to, gint64 plan, GError **error);
/* Guests evacuated from @host: GPtrArray of owned "vm" strings, and the hosts
 * they went to in @ret_to (same order, may be NULL). */
GPtrArray *vb_journal_evacuated(VbJournal *journal, const char *host, GPtrArray **ret_to,
                                GError **error);
gboolean vb_journal_evacuated_clear(VbJournal *journal, const char *host, GError **error);

/* --------------------------------------------------------------- executor */

typedef enum {
    VB_EXEC_QUEUED,     /* a move entered the queue (plan start, re-plan) */
    VB_EXEC_STARTED,    /* a migration started */
    VB_EXEC_PROGRESS,   /* a running migration was polled */
    VB_EXEC_FINISHED,   /* the guest runs on its destination */
    VB_EXEC_RETRY,      /* an attempt failed; the move goes back in the queue */
    VB_EXEC_FAILED,     /* given up after retries */
    VB_EXEC_ABORTED,    /* past the timeout; guest stays on its source */
    VB_EXEC_SKIPPED,    /* no longer fits the fresh state */
    VB_EXEC_UNPLACED,   /* re-planning found no destination */
    VB_EXEC_UNKNOWN,    /* a host of the move stopped answering: its end is
                         * unknown; left started for the next run to reconcile */
    VB_EXEC_EVENT_LAST
} VbExecEventKind;

extern const char *const vb_exec_event_names[];

/* What happened; every pointer is valid during the callback only. */
typedef struct {
    VbExecEventKind kind;
    const char *vm, *from, *to;
    VbMoveKind move_kind;
    guint attempt;             /* 1-based start number, 0 before the first */
    double clock;              /* the driver's clock */
    double elapsed_seconds;    /* since this attempt started */
    double estimated_seconds;
    double progress;           /* 0..1 */
    const char *message;       /* reason of a failure, skip, abort; or NULL */
    guint n_running;           /* migrations in flight after the event */
    guint64 remaining_mib;     /* progress: data left to send at this poll; 0 when
                                * not known (other events, drivers that cannot say) */
    gint64 plan_id;            /* the journal's plan, 0 without a journal */
} VbExecEvent;

typedef void (*VbExecEventFunc)(const VbExecEvent *event, gpointer user_data);

typedef struct {
    const VbDriverOps *ops;    /* required */
    VbConn *conn;              /* required */
    const VbPolicy *policy;    /* required: caps, timeout, retries, planner */
    VbJournal *journal;        /* NULL: nothing journaled (tests, dry runs) */
    double poll_seconds;       /* between polls of running migrations; 0 = 1 s */
    VbExecEventFunc on_event;  /* may be NULL */
    gpointer user_data;
    const gint *stop;          /* set (g_atomic_int) to 1 to start nothing new;
                                * 2 or more (a second SIGTERM/SIGINT): the
                                * drain limit is reached now */
    double drain_seconds;      /* after stop: running ones get this long, then
                                * are aborted; 0 = wait for them */
    char **maintenance;        /* hosts treated as in maintenance in fresh state */
    gint64 now_unix;           /* "now" for the planner on re-plans; 0 = real time */
    gboolean no_replan;        /* an approved plan (rebalance --plan): a move that no
                                * longer fits is skipped and reported, the planner is
                                * never called again, so no move is added or changed */
    guint crash_after_starts;  /* tests: return abruptly after this many starts,
                                * leaving migrations running, as if killed */
} VbExecOptions;

/* How one guest's move ended. */
typedef struct {
    char *vm, *from, *to;
    VbMoveKind kind;
    VbMoveState state;         /* finished, failed, aborted or skipped; started:
                               * still running when the run was interrupted */
    guint attempts;
    double started_clock, ended_clock;
    char *message;
} VbExecOutcome;

typedef struct {
    guint finished, failed, aborted, skipped, unplaced;
    guint unknown;             /* left started: a host stopped answering, so
                                * their end is unknown (the plan stays
                                * unfinished; the next run reconciles them) */
    guint host_down;           /* skipped because their source stopped
                                * answering: the guest stays where it was
                                * (counted in skipped too; a failure) */
    guint replans;             /* times the planner was called again */
    guint max_running;         /* most migrations in flight at once */
    double started_clock;      /* driver clock at start */
    double ended_clock;        /* ... and when the last move ended */
    gboolean interrupted;      /* crash_after_starts fired, or a stop left a
                                * migration whose abort was refused running:
                                * the plan stays unfinished in the journal */
    gboolean stopped;          /* stop was set and cut the run short: queued
                                * moves were not started, or running ones were
                                * aborted or left running */
    double stopped_clock;      /* driver clock when the stop was seen, < 0 never */
    guint not_started;         /* queued moves dropped by the stop (skipped) */
    guint still_running;       /* interrupted: migrations left running, listed
                                * last in outcomes with state started */
    GPtrArray *outcomes;       /* owned VbExecOutcome *, in end order */
} VbExecReport;

void vb_exec_report_free(VbExecReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbExecReport, vb_exec_report_free)

/* Executes @plan (made on @inv, which names its hosts and guests): journals
 * the plan and its moves, then runs them (transfer full report). Move
 * failures are in the report, not errors. NULL with an error only when the
 * journal cannot be written (VB_ERROR_DATABASE: nothing is started without
 * its journal row) or the driver cannot give a snapshot at all. */
VbExecReport *vb_executor_run(const VbExecOptions *opts, const VbInventory *inv,
                              const VbPlan *plan, GError **error);

/* Reconciles the journal's unfinished plan with what the hosts hold (a
 * started move is found finished, still running, or failed; nothing is
 * repeated blindly) and finishes it (transfer full report). NULL without an
 * error when there is no unfinished plan. Needs opts->journal. */
VbExecReport *vb_executor_resume(const VbExecOptions *opts, GError **error);

/* "2 running: web-1 kvm1->kvm3 42%, ..."-style one-line summary of an event
 * for logs (transfer full). */
char *vb_exec_event_describe(const VbExecEvent *event);

G_END_DECLS
