/*
 * exec.c: acting on a pool from the command line (see exec-priv.h).
 *
 * Opening: the pool comes from the same places as for `plan` (--inventory,
 * --config, the demo pool) through a collector session, so plans use window
 * averages; the journal lives in --database, else the config's database, else
 * the session's in-memory one (a simulated run). The acting lock is taken
 * before anything else, then a plan a crashed run left is finished first.
 *
 * Signals: vb_cli_exec_catch_signals() installs SIGTERM/SIGINT handlers
 * that only count (async-signal-safe); the executor polls the count between
 * steps: 1 stops new starts and drains, 2 aborts what runs. Without it a
 * signal kills the process with migrations in flight and nobody enforcing
 * their timeout.
 *
 * Progress: every event is a log line (cli/log.c: priority, MESSAGE_ID,
 * fields) but progress polls, which would flood a log: on a terminal one bar
 * per running migration is redrawn in place under the log lines; otherwise
 * each running migration gets a progress line every VB_CLI_PROGRESS_INTERVAL
 * seconds (percent, data left, the rate it falls at, the time to go), and
 * --verbose logs every poll.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli/exec-priv.h"

/* ---------------------------------------------------------------- signals */

static gint exec_signals;            /* SIGTERM/SIGINT seen */
static gboolean exec_signals_caught; /* handlers installed */
static double exec_drain_seconds;

static void
exec_on_signal(int sig)
{
    (void) sig;
    g_atomic_int_inc(&exec_signals);
}

void
vb_cli_exec_catch_signals(double drain_seconds)
{
    struct sigaction sa = { 0 };

    g_atomic_int_set(&exec_signals, 0);
    exec_drain_seconds = drain_seconds;
    exec_signals_caught = TRUE;
    sa.sa_handler = exec_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

gboolean
vb_cli_exec_stopping(void)
{
    return g_atomic_int_get(&exec_signals) > 0;
}

/* ---------------------------------------------------------------- opening */

/* The pool for an --inventory or demo run (transfer full), or NULL without
 * an error when a config describes it. */
static VbInventory *
exec_local_inventory(VbCliContext *ctx, const VbConfig *config, GError **error)
{
    if (ctx->inventory_path)
        return vb_inventory_load_file(ctx->inventory_path, error);
    if (config)
        return NULL;
    {
        g_autoptr(GBytes) bytes = vb_cli_demo_pool();
        gsize len = 0;
        const char *data = g_bytes_get_data(bytes, &len);

        vb_cli_note(VB_LOG_NOTICE, "no --inventory or --config: acting on the built-in "
                                   "demo pool (simulated)");
        return vb_inventory_load_data(data, len, VB_CLI_DEMO_NAME, error);
    }
}

VbJournal *
vb_cli_journal_open(VbCliContext *ctx, const char *database, VbStore **ret_store, GError **error)
{
    g_autoptr(GError) local = NULL;
    VbConfig *config = database ? NULL : vb_cli_context_get_config(ctx, &local);
    const char *path = database ? database : config ? config->database : NULL;
    g_autoptr(VbStore) store = NULL;
    VbJournal *journal;

    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    if (!path) {
        g_set_error(error, VB_ERROR, VB_ERROR_USAGE,
                    "no database to read: give --database FILE, or --config with a "
                    "'database' key");
        return NULL;
    }
    store = vb_store_open(path, error);
    journal = store ? vb_journal_open(store, error) : NULL;
    if (!journal)
        return NULL;
    *ret_store = g_steal_pointer(&store);
    return journal;
}

gboolean
vb_cli_exec_open(VbCliExec *ex, VbCliContext *ctx, const char *database, gboolean need_database,
                 GError **error)
{
    GError *local = NULL;
    VbConfig *config = ctx->inventory_path ? NULL : vb_cli_context_get_config(ctx, &local);
    VbInventory *inv = NULL;

    memset(ex, 0, sizeof(*ex));
    ex->ctx = ctx;
    if (exec_signals_caught) {
        ex->stop = &exec_signals;
        ex->drain_seconds = exec_drain_seconds;
    }
    ex->policy = local ? NULL : vb_cli_context_get_policy(ctx, &local);
    if (local) {
        g_propagate_error(error, local);
        return FALSE;
    }
    inv = exec_local_inventory(ctx, config, error);
    if (!inv && (ctx->inventory_path || !config))
        return FALSE;
    if (!ctx->source_name)
        ctx->source_name = g_strdup(ctx->inventory_path ? ctx->inventory_path
                                    : config            ? config->filename
                                                        : VB_CLI_DEMO_NAME);
    ex->session = vb_collect_session_open(ctx->inventory_path || !config ? NULL : config, inv,
                                          error);
    if (!ex->session)
        return FALSE;
    if (database) {
        ex->journal_store = vb_store_open(database, error);
        if (!ex->journal_store)
            return FALSE;
    } else if (need_database && !(config && config->database && !inv)) {
        g_set_error(error, VB_ERROR, VB_ERROR_USAGE,
                    "this command records state: give --database FILE, or --config with a "
                    "'database' key");
        return FALSE;
    }
    ex->journal = vb_journal_open(ex->journal_store ? ex->journal_store : ex->session->store,
                                  error);
    return ex->journal && vb_journal_lock(ex->journal, error);
}

void
vb_cli_exec_close(VbCliExec *ex)
{
    g_clear_pointer(&ex->journal, vb_journal_free);
    g_clear_pointer(&ex->journal_store, vb_store_free);
    g_clear_pointer(&ex->session, vb_collect_session_free);
    g_clear_pointer(&ex->unread, g_strfreev);
}

VbInventory *
vb_cli_exec_snapshot(VbCliExec *ex, GError **error)
{
    g_autoptr(VbInventory) inv = vb_collector_snapshot(ex->session->collector, NULL, error);
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GStrvBuilder) unread = g_strv_builder_new();

    if (!inv)
        return NULL;
    list = vb_journal_maintenance_list(ex->journal, error);
    if (!list)
        return NULL;
    for (guint h = 0; h < inv->hosts->len; h++) {
        if (vb_inventory_host(inv, h)->state == VB_HOST_STATE_DOWN)
            g_strv_builder_add(unread, vb_inventory_host(inv, h)->name);
    }
    g_strfreev(ex->unread);
    ex->unread = g_strv_builder_end(unread);
    vb_scheduler_apply_maintenance_list(inv, list);
    if (!vb_scheduler_apply_costs(inv, ex->journal, ex->policy, error) ||
        !vb_scheduler_apply_recent_moves(inv, ex->journal, ex->ctx->now, error))
        return NULL;
    return g_steal_pointer(&inv);
}

/* --------------------------------------------------------------- progress */

/* Without a terminal, each running migration gets a progress line this often
 * (seconds of the driver's clock; the sim driver's is virtual, so tests see
 * the same lines every run). */
#define VB_CLI_PROGRESS_INTERVAL 10.0

/* What the progress lines of one running migration remember. */
typedef struct {
    double line_clock;       /* when its last line was logged (its start first) */
    double base_clock;       /* the rate is measured from here ... */
    guint64 base_remaining;  /* ... and this much data left then (0: unknown) */
} ProgressTrack;

typedef struct {
    const VbCliExec *ex;
    FILE *err;
    gboolean tty;
    GPtrArray *running; /* owned lines of running migrations, keyed by vm prefix */
    GPtrArray *vms;     /* owned vm names, same order */
    GHashTable *tracks; /* vm name -> owned ProgressTrack, while it runs */
    guint drawn;        /* lines of the block on screen */
    guint starts;       /* migrations started so far */
    guint signal_at;    /* tests: raise SIGTERM at this start (0: never) */
    guint signals;      /* ... this many times */
} Progress;

/* VB_TEST_SIGTERM_AT_START=N[,K] (tests): the process sends itself SIGTERM
 * K times (default 1) right after the Nth migration starts, through the
 * real handler, at a point that does not depend on timing. */
static void
progress_test_signals(Progress *p)
{
    const char *env = g_getenv("VB_TEST_SIGTERM_AT_START");
    g_auto(GStrv) parts = env ? g_strsplit(env, ",", 2) : NULL;

    if (!parts || !parts[0])
        return;
    p->signal_at = (guint) g_ascii_strtoull(parts[0], NULL, 10);
    p->signals = parts[1] ? (guint) g_ascii_strtoull(parts[1], NULL, 10) : 1;
}

static void
progress_set(Progress *p, const char *vm, char *line)
{
    for (guint i = 0; i < p->vms->len; i++) {
        if (g_str_equal(g_ptr_array_index(p->vms, i), vm)) {
            if (line) {
                g_free(g_ptr_array_index(p->running, i));
                g_ptr_array_index(p->running, i) = line;
            } else {
                g_ptr_array_remove_index(p->running, i);
                g_ptr_array_remove_index(p->vms, i);
            }
            return;
        }
    }
    if (line) {
        g_ptr_array_add(p->vms, g_strdup(vm));
        g_ptr_array_add(p->running, line);
    }
}

static char *
progress_bar(const VbExecEvent *ev)
{
    char bar[21];
    guint filled = (guint) (CLAMP(ev->progress, 0, 1) * 20);

    memset(bar, '#', filled);
    memset(bar + filled, '.', 20 - filled);
    bar[20] = '\0';
    return g_strdup_printf("  %-20s %s -> %s [%s] %3.0f%%  %.0f/%.0f s", ev->vm, ev->from, ev->to,
                           bar, ev->progress * 100, ev->elapsed_seconds, ev->estimated_seconds);
}

/* "[  42.0 s] progress web1 kvm1 -> kvm2 (live): 45%, 1234 MiB left, shrinking by
 * 110 MiB/s, about 11 s to go" (transfer full). The rate is how fast the data
 * left fell since @t's base (the last line, or the first poll): with a guest
 * that dirties memory it is less than the link's rate, and it is what says
 * when the migration ends. */
static char *
progress_line(const VbExecEvent *ev, const ProgressTrack *t)
{
    GString *s = g_string_new(NULL);
    double span = ev->clock - t->base_clock;
    gboolean known = ev->remaining_mib > 0 || t->base_remaining > 0;
    double rate = known && span > 0 ? ((double) t->base_remaining - (double) ev->remaining_mib) / span
                                    : 0;
    double left = ev->estimated_seconds - ev->elapsed_seconds;

    g_string_append_printf(s, "[%8.1f s] progress %s %s -> %s (%s): %.0f%%", ev->clock, ev->vm,
                           ev->from, ev->to, vb_move_kind_names[ev->move_kind],
                           ev->progress * 100);
    if (known)
        g_string_append_printf(s, ", %" G_GUINT64_FORMAT " MiB left", ev->remaining_mib);
    if (rate > 0)
        g_string_append_printf(s, ", shrinking by %.0f MiB/s, about %.0f s to go", rate,
                               (double) ev->remaining_mib / rate);
    else if (left > 0)
        g_string_append_printf(s, ", about %.0f s to go by the estimate", left);
    else
        g_string_append_printf(s, ", past its estimate of %.0f s", ev->estimated_seconds);
    return g_string_free(s, FALSE);
}

/* The priority, MESSAGE_ID and VB_OUTCOME of an executor event's line. */
static void
progress_classify(VbExecEventKind kind, VbLogPriority *ret_priority, VbLogEvent *ret_event,
                  const char **ret_outcome)
{
    static const struct {
        VbLogPriority priority;
        VbLogEvent event;
    } kinds[] = {
        [VB_EXEC_QUEUED] = { VB_LOG_DEBUG, VB_LOG_EVENT_NONE },
        [VB_EXEC_STARTED] = { VB_LOG_INFO, VB_LOG_EVENT_MIGRATION_STARTED },
        [VB_EXEC_PROGRESS] = { VB_LOG_DEBUG, VB_LOG_EVENT_NONE },
        [VB_EXEC_FINISHED] = { VB_LOG_INFO, VB_LOG_EVENT_MIGRATION_FINISHED },
        [VB_EXEC_RETRY] = { VB_LOG_WARNING, VB_LOG_EVENT_NONE },
        [VB_EXEC_FAILED] = { VB_LOG_ERR, VB_LOG_EVENT_MIGRATION_FAILED },
        [VB_EXEC_ABORTED] = { VB_LOG_ERR, VB_LOG_EVENT_MIGRATION_FAILED },
        [VB_EXEC_SKIPPED] = { VB_LOG_NOTICE, VB_LOG_EVENT_NONE },
        [VB_EXEC_UNPLACED] = { VB_LOG_WARNING, VB_LOG_EVENT_NONE },
        [VB_EXEC_UNKNOWN] = { VB_LOG_WARNING, VB_LOG_EVENT_NONE },
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(kinds) == VB_EXEC_EVENT_LAST);
    *ret_priority = kinds[kind].priority;
    *ret_event = kinds[kind].event;
    *ret_outcome = kind == VB_EXEC_STARTED || kind == VB_EXEC_PROGRESS ? NULL
                                                                        : vb_exec_event_names[kind];
}

/* Logs @ev: its event line, and without a terminal a progress line per
 * running migration every VB_CLI_PROGRESS_INTERVAL (each poll at debug). */
static void
progress_log(Progress *p, const VbExecEvent *ev)
{
    VbLogAbout about = { .vm = ev->vm, .from = ev->from, .to = ev->to, .reason = ev->message,
                         .plan_id = ev->plan_id };
    ProgressTrack *t = g_hash_table_lookup(p->tracks, ev->vm);
    VbLogPriority priority;
    VbLogEvent event;
    g_autofree char *line = NULL;

    progress_classify(ev->kind, &priority, &event, &about.outcome);
    if (ev->kind == VB_EXEC_STARTED) {
        t = g_new0(ProgressTrack, 1);
        t->line_clock = t->base_clock = ev->clock;
        g_hash_table_replace(p->tracks, g_strdup(ev->vm), t);
    } else if (ev->kind != VB_EXEC_PROGRESS && ev->kind != VB_EXEC_QUEUED) {
        g_hash_table_remove(p->tracks, ev->vm);
    }
    if (ev->kind == VB_EXEC_PROGRESS && t && !p->tty &&
        ev->clock - t->line_clock >= VB_CLI_PROGRESS_INTERVAL - 1e-9) {
        line = progress_line(ev, t);
        vb_cli_log(VB_LOG_INFO, VB_LOG_EVENT_NONE, &about, "%s", line);
        t->line_clock = t->base_clock = ev->clock;
        t->base_remaining = ev->remaining_mib;
        return;
    }
    if (ev->kind == VB_EXEC_PROGRESS && t && t->base_remaining == 0) {
        /* the first poll that knows the data left: measure the rate from it */
        t->base_clock = ev->clock;
        t->base_remaining = ev->remaining_mib;
    }
    if (!vb_cli_log_enabled(priority))
        return;
    line = vb_exec_event_describe(ev);
    vb_cli_log(priority, event, &about, "%s", line);
}

static void
progress_event(const VbExecEvent *ev, gpointer data)
{
    Progress *p = data;

    /* The executor blocks the daemon's loop while migrations run; its
     * events (one per poll) keep systemd's watchdog fed. */
    vb_cli_notify_watchdog();
    if (vb_cli_exec_stopping())
        vb_cli_notify_stopping();
    if (p->ex->on_event)
        p->ex->on_event(ev, p->ex->on_event_data);
    if (ev->kind == VB_EXEC_STARTED && ++p->starts == p->signal_at) {
        for (guint i = 0; i < p->signals; i++)
            raise(SIGTERM);
    }
    if (!p->tty || ev->kind == VB_EXEC_QUEUED) {
        progress_log(p, ev);
        return;
    }
    /* On a terminal: the block of bars is redrawn under the log lines
     * (--quiet: no bars). */
    for (guint i = 0; i < p->drawn; i++)
        fputs("\033[1A\033[2K", p->err);
    progress_log(p, ev);
    if (vb_cli_log_enabled(VB_LOG_INFO) &&
        (ev->kind == VB_EXEC_STARTED || ev->kind == VB_EXEC_PROGRESS))
        progress_set(p, ev->vm, progress_bar(ev));
    else
        progress_set(p, ev->vm, NULL);
    for (guint i = 0; i < p->running->len; i++)
        fprintf(p->err, "%s\n", (const char *) g_ptr_array_index(p->running, i));
    p->drawn = p->running->len;
    fflush(p->err);
}

/* --------------------------------------------------------------- running */

static int
exec_exit_code(const VbExecReport *r)
{
    if (r->stopped || r->still_running > 0)
        return VB_EXIT_INTERRUPTED;
    if (r->unplaced > 0)
        return VB_EXIT_UNPLACEABLE;
    return r->failed + r->aborted + r->unknown + r->host_down > 0 ? VB_EXIT_FAILURE : VB_EXIT_OK;
}

static VbExecReport *
exec_run(VbCliExec *ex, const VbInventory *inv, const VbPlan *plan, GError **error)
{
    Progress p = { .ex = ex, .err = stderr, .tty = isatty(fileno(stderr)) };
    g_auto(GStrv) maintenance = vb_journal_maintenance_hosts(ex->journal, error);
    VbExecOptions opts = { 0 };
    VbExecReport *report;

    if (!maintenance)
        return NULL;
    progress_test_signals(&p);
    p.running = g_ptr_array_new_with_free_func(g_free);
    p.vms = g_ptr_array_new_with_free_func(g_free);
    p.tracks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    opts.ops = ex->session->ops;
    opts.conn = ex->session->conn;
    opts.policy = ex->policy;
    opts.journal = ex->journal;
    opts.on_event = progress_event;
    opts.user_data = &p;
    opts.stop = ex->stop;
    opts.drain_seconds = ex->drain_seconds;
    opts.maintenance = maintenance;
    opts.now_unix = ex->ctx->now;
    opts.no_replan = ex->approved;
    report = plan ? vb_executor_run(&opts, inv, plan, error) : vb_executor_resume(&opts, error);
    g_ptr_array_unref(p.running);
    g_ptr_array_unref(p.vms);
    g_hash_table_unref(p.tracks);
    return report;
}

gboolean
vb_cli_exec_resume(VbCliExec *ex, GError **error)
{
    g_autoptr(VbExecReport) report = NULL;
    g_autoptr(GError) local = NULL;

    report = exec_run(ex, NULL, NULL, &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (report) {
        ex->left_running = report->still_running > 0;
        vb_cli_print_report(ex->ctx, report, "Resumed an interrupted plan");
    }
    return TRUE;
}

int
vb_cli_exec_plan(VbCliExec *ex, const VbInventory *inv, const VbPlan *plan)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbExecReport) report = exec_run(ex, inv, plan, &error);

    if (!report)
        return vb_cli_report_error(error);
    /* Guests the plan itself could not place count as unplaced too. */
    report->unplaced += plan->unplaced ? plan->unplaced->len : 0;
    ex->left_running = report->still_running > 0;
    vb_cli_print_report_on(ex->ctx, report,
                           plan->kind == VB_PLAN_EVACUATE ? "Evacuation" : "Rebalance", inv,
                           ex->policy, plan);
    return vb_cli_partial_exit_code(inv, exec_exit_code(report));
}

gboolean
vb_cli_exec_recommend(VbCliExec *ex, const VbInventory *inv, const VbPlan *plan,
                      gint64 *ret_plan, GError **error)
{
    g_autofree char *outcome = g_strdup_printf("recommended (automation: %s): nothing migrated",
                                               vb_automation_names[ex->policy->automation]);
    gint64 id = 0, move = 0;

    if (!vb_journal_plan_begin(ex->journal, plan->kind, plan->evacuated_host, &id, error))
        return FALSE;
    for (guint i = 0; i < plan->moves->len; i++) {
        const VbMove *m = &g_array_index(plan->moves, VbMove, i);

        if (!vb_journal_move_add(ex->journal, id, vb_inventory_vm(inv, m->vm)->name,
                                 vb_inventory_host(inv, m->from)->name,
                                 vb_inventory_host(inv, m->to)->name, m->kind,
                                 m->estimated_seconds, &move, error))
            return FALSE;
    }
    if (!vb_journal_plan_end(ex->journal, id, outcome, error))
        return FALSE;
    *ret_plan = id;
    return TRUE;
}

/* ----------------------------------------------------------------- report */

/* "plan": what the plan that ran answered for (render-objectives.c). */
static void
add_plan_answer(JsonBuilder *b, const VbInventory *inv, const VbPolicy *policy,
                const VbPlan *plan)
{
    VbCliPlanView view = { .inv = inv, .policy = policy, .plan = plan };

    json_builder_set_member_name(b, "plan");
    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "stop_reason", plan->stop_reason);
    vb_cli_json_add_objectives(b, &view);
    json_builder_end_object(b);
}

static void
print_report_json(VbCliContext *ctx, const VbExecReport *r, const char *title,
                  const VbInventory *inv, const VbPolicy *policy, const VbPlan *plan)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "run", title);
    vb_cli_json_add_int(b, "finished", r->finished);
    vb_cli_json_add_int(b, "failed", r->failed);
    vb_cli_json_add_int(b, "aborted", r->aborted);
    vb_cli_json_add_int(b, "skipped", r->skipped);
    vb_cli_json_add_int(b, "source_down", r->host_down);
    vb_cli_json_add_int(b, "unplaced", r->unplaced);
    json_builder_set_member_name(b, "duration_seconds");
    json_builder_add_double_value(b, r->ended_clock - r->started_clock);
    json_builder_set_member_name(b, "interrupted");
    json_builder_add_boolean_value(b, r->stopped || r->still_running > 0);
    json_builder_set_member_name(b, "stopped_after_seconds");
    if (r->stopped_clock >= 0)
        json_builder_add_double_value(b, r->stopped_clock - r->started_clock);
    else
        json_builder_add_null_value(b);
    vb_cli_json_add_int(b, "not_started", r->not_started);
    vb_cli_json_add_int(b, "still_running", r->still_running);
    json_builder_set_member_name(b, "moves");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->outcomes->len; i++) {
        const VbExecOutcome *o = g_ptr_array_index(r->outcomes, i);

        json_builder_begin_object(b);
        vb_cli_json_add_string(b, "vm", o->vm);
        vb_cli_json_add_string(b, "from", o->from);
        vb_cli_json_add_string(b, "to", o->to);
        vb_cli_json_add_string(b, "kind", vb_move_kind_names[o->kind]);
        vb_cli_json_add_string(b, "state", vb_move_state_names[o->state]);
        vb_cli_json_add_int(b, "attempts", o->attempts);
        json_builder_set_member_name(b, "seconds");
        json_builder_add_double_value(b, o->started_clock >= 0 ? o->ended_clock - o->started_clock : 0);
        vb_cli_json_add_string(b, "message", o->message);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    if (inv)
        vb_cli_json_add_unreachable(b, inv);
    if (inv && policy && plan)
        add_plan_answer(b, inv, policy, plan);
    json_builder_end_object(b);
    text = vb_cli_json_finish(b);
    fputs(text, ctx->out);
}

/* The line saying a run was cut short: by a signal (when, what it left), or
 * with migrations left running. Nothing when it ran to its end. */
static void
print_report_stop(FILE *out, const VbExecReport *r)
{
    g_autofree char *after = NULL;

    if (!r->stopped && r->still_running == 0)
        return;
    if (r->stopped_clock >= 0) {
        after = vb_cli_duration_text(r->stopped_clock - r->started_clock);
        fprintf(out, "Interrupted by SIGTERM/SIGINT after %s: %u queued move%s not started", after,
                r->not_started, r->not_started == 1 ? "" : "s");
    } else {
        fprintf(out, "Interrupted");
    }
    if (r->still_running > 0)
        fprintf(out, "; %u migration%s still running (listed below), journaled as started: the "
                     "plan stays unfinished and the next run reconciles it",
                r->still_running, r->still_running == 1 ? "" : "s");
    fprintf(out, ".\n");
}

void
vb_cli_print_report(VbCliContext *ctx, const VbExecReport *r, const char *title)
{
    vb_cli_print_report_on(ctx, r, title, NULL, NULL, NULL);
}

void
vb_cli_print_report_on(VbCliContext *ctx, const VbExecReport *r, const char *title,
                       const VbInventory *inv, const VbPolicy *policy, const VbPlan *plan)
{
    g_autoptr(VbCliTable) table = vb_cli_table_new(6);
    g_autofree char *took = vb_cli_duration_text(r->ended_clock - r->started_clock);

    if (ctx->format == VB_CLI_FORMAT_JSON) {
        print_report_json(ctx, r, title, inv, policy, plan);
        return;
    }
    vb_cli_print_unreachable(ctx->out, inv, VB_CLI_LEFT_OUT, ctx->color);
    fprintf(ctx->out, "%s: %u finished, %u failed, %u aborted, %u skipped, %u unplaced in %s\n",
            title, r->finished, r->failed, r->aborted, r->skipped, r->unplaced, took);
    print_report_stop(ctx->out, r);
    if (r->host_down > 0)
        fprintf(ctx->out, "%u move%s not started: the source stopped answering; those guests "
                          "stay where they were (exit 1).\n",
                r->host_down, r->host_down == 1 ? "" : "s");
    if (r->outcomes->len == 0)
        return;
    vb_cli_table_add(table, (const char *const[]){ "GUEST", "FROM", "TO", "OUTCOME", "TRIES",
                                                    "WHY" });
    for (guint i = 0; i < r->outcomes->len; i++) {
        const VbExecOutcome *o = g_ptr_array_index(r->outcomes, i);
        g_autofree char *tries = g_strdup_printf("%u", o->attempts);
        const char *state = o->state == VB_MOVE_STATE_STARTED ? "running"
                                                               : vb_move_state_names[o->state];

        vb_cli_table_add(table, (const char *const[]){ o->vm, o->from, o->to, state, tries,
                                                        o->message ? o->message : "" });
    }
    vb_cli_table_align_right(table, 4);
    vb_cli_table_print(table, ctx->out, "  ");
}
