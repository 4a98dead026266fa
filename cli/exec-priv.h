/*
 * exec-priv.h: what the acting commands (rebalance, evacuate, maintenance,
 * history, run: cli/cmd-rebalance.c, cli/cmd-maintenance.c, cli/cmd-run.c)
 * share, implemented in cli/exec.c: opening the pool with its collector and
 * the journal under the acting lock, resuming an interrupted plan, fresh
 * snapshots with the maintenance set applied, executing a plan with a
 * progress display, and printing the outcome.
 */
#pragma once

#include "cli/cli.h"
#include "collectors/collectors.h"
#include "scheduler/scheduler.h"

/* An open pool to act on. */
typedef struct {
    VbCliContext *ctx;          /* borrowed */
    VbCollectSession *session;  /* driver connection, history store, collector */
    VbStore *journal_store;     /* owned when the journal has its own database */
    VbJournal *journal;
    const VbPolicy *policy;     /* borrowed from ctx (or the daemon) */
    const gint *stop;           /* SIGTERM/SIGINT count (vb_cli_exec_catch_signals), or NULL */
    double drain_seconds;       /* after a stop: how long running migrations may go on */
    gboolean left_running;      /* the last plan run left migrations running */
    char **unread;              /* hosts the last snapshot could not read, in maintenance
                                 * or not (owned, NULL-terminated) */
    VbExecEventFunc on_event;   /* also told every executor event, or NULL (run's metrics) */
    gboolean approved;          /* the plan run is an approved one (rebalance --plan): the
                                 * executor skips what no longer fits and re-plans nothing */
    gpointer on_event_data;
} VbCliExec;

/* Catches SIGTERM and SIGINT for the acting commands (call it before
 * vb_cli_exec_open, which hands the flag to every executor run): the first
 * signal stops new starts and gives running migrations @drain_seconds (0:
 * until they end, each still bounded by the policy's timeout), a second one
 * aborts them at once. Plain handlers that only count: the executor polls. */
void vb_cli_exec_catch_signals(double drain_seconds);
/* TRUE once SIGTERM/SIGINT was caught. */
gboolean vb_cli_exec_stopping(void);

/* Opens the pool of @ctx (--inventory, --config or the demo pool) and the
 * journal (@database, else the config's database, else the history's
 * in-memory one) and takes the acting lock; with @need_database a journal
 * that would not outlive the process is refused. Returns FALSE with
 * the error (VB_ERROR_BUSY when another virt-balancer acts). */
gboolean vb_cli_exec_open(VbCliExec *ex, VbCliContext *ctx, const char *database,
                          gboolean need_database, GError **error);
void vb_cli_exec_close(VbCliExec *ex);

/* Opens only the journal (history, maintenance list): no pool, no lock. */
VbJournal *vb_cli_journal_open(VbCliContext *ctx, const char *database, VbStore **ret_store,
                               GError **error);

/* Finishes a plan a crashed run left (journal reconciliation); prints what
 * it did. FALSE only when the journal or driver failed. */
gboolean vb_cli_exec_resume(VbCliExec *ex, GError **error);

/* The pool now, averaged over the window, with the hosts in maintenance
 * marked with their reasons, the migration costs measured and each guest's
 * recent migrations (cooldown, daily move cap) from the journal (transfer
 * full); ex->unread names the hosts it could not read. */
VbInventory *vb_cli_exec_snapshot(VbCliExec *ex, GError **error);

/* Runs @plan (made on @inv) with a progress display on stderr, then prints
 * the outcome (text or JSON) on ctx->out. Returns the exit code: 0 when every
 * move finished, 1 when some failed or were aborted, 4 when guests stayed
 * unplaced, 6 (before the others) when a signal cut the run short; an error
 * is reported and its code returned. */
int vb_cli_exec_plan(VbCliExec *ex, const VbInventory *inv, const VbPlan *plan);

/* Journals @plan (made on @inv) as a recommendation: the plan and its moves
 * (left queued, never started) in one ended plan whose outcome is
 * "recommended (automation: LEVEL): nothing migrated", LEVEL the policy's;
 * its id in @ret_plan. Migrates nothing. FALSE with
 * VB_ERROR_DATABASE when the journal cannot be written. */
gboolean vb_cli_exec_recommend(VbCliExec *ex, const VbInventory *inv, const VbPlan *plan,
                               gint64 *ret_plan, GError **error);

/* Prints a report (text or JSON). */
void vb_cli_print_report(VbCliContext *ctx, const VbExecReport *report, const char *title);
/* The same for a report of a plan made on @inv (may be NULL): text and JSON
 * also list the hosts @inv could not read (cli/partial.c); with @plan (made
 * under @policy; may be NULL) the JSON has the plan's own answer in "plan":
 * its stop_reason, target_met, rule_violations and hotspots (what the plan
 * expected, docs/plan-json.md), the text shows them before the moves run. */
void vb_cli_print_report_on(VbCliContext *ctx, const VbExecReport *report, const char *title,
                            const VbInventory *inv, const VbPolicy *policy,
                            const VbPlan *plan);


/* `run`'s /metrics (cli/run-metrics.c, docs/metrics.md). Every function
 * accepts NULL: metrics off. */
typedef struct _VbCliRunMetrics VbCliRunMetrics;

/* Serves /metrics on @listen (the config's http_listen; NULL: off, returns
 * NULL without an error); its URL in @ret_url (transfer full). NULL with
 * the server's error when it cannot listen. */
VbCliRunMetrics *vb_cli_run_metrics_start(const char *listen, char **ret_url, GError **error);
void vb_cli_run_metrics_free(VbCliRunMetrics *rm);
/* Counts from @journal (borrowed; it must outlive @rm) from now on. */
void vb_cli_run_metrics_journal(VbCliRunMetrics *rm, VbJournal *journal);
/* A round: @inv (NULL: skipped) and @plan (NULL: the planner refused) made
 * at @plan_time (unix seconds) in @plan_seconds. */
void vb_cli_run_metrics_round(VbCliRunMetrics *rm, const VbInventory *inv, const VbPolicy *policy,
                              const VbPlan *plan, double plan_time, double plan_seconds);
/* A VbExecEventFunc: migrations that start or end are counted again. */
void vb_cli_run_metrics_event(const VbExecEvent *event, gpointer data);
/* Publishes the HTML report of @view (a round's plan made at @now, unix
 * seconds) at /. */
void vb_cli_run_metrics_page(VbCliRunMetrics *rm, const VbCliPlanView *view, gint64 now);
/* The line under the heading of that page: the round's time (UTC) and what
 * the daemon does with the plan under @policy's automation (transfer full). */
char *vb_cli_run_page_note(const VbPolicy *policy, gint64 now);
