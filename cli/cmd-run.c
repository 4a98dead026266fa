/*
 * cmd-run.c: `run`, the periodic rebalancer (the daemon; see
 * contrib/virt-balancer.service.in, installed as virt-balancer.service).
 *
 * A GLib main loop with a one-second tick, on a main context of its own
 * (GLib's default one is libvirt's event loop, run by a thread of the
 * libvirt driver): it samples the pool into the
 * history every sample interval and rebalances (plan on window averages,
 * then execute) every rebalance interval, from the config (or the command
 * line). Before the first round it takes the acting lock and finishes a plan
 * a crashed run left.
 *
 * Signals are caught with plain handlers that only set flags, because a
 * rebalance round runs the executor, which blocks the loop while migrations
 * run: the executor itself watches the SIGTERM/SIGINT count of cli/exec.c
 * (no new migration starts; running ones get --drain-timeout seconds, then
 * are aborted and their guests stay on their sources; a second signal aborts
 * them at once), and the tick acts on the flags between rounds:
 *   SIGHUP   reload the config and the policy; a broken file is refused
 *            with its error in the log and the old one is kept;
 *   SIGTERM, SIGINT  finish (drain), release the lock, exit 0; exit 6 when
 *            a migration whose abort was refused is left running (the
 *            report lists it; the next run reconciles it).
 *
 * Under systemd (Type=notify, cli/notify.c) it says READY=1 once the lock is
 * taken (before resuming a crashed run's plan, which may wait for
 * migrations), RELOADING=1 then READY=1 around a SIGHUP reload, STOPPING=1
 * when it starts to stop, each log line as STATUS=, and a watchdog
 * keep-alive every tick and every executor event.
 *
 * A round whose snapshot could not read some hosts (not in maintenance)
 * says so in the log, naming each with its reason: its plan leaves them
 * out (cli/partial.c); the daemon itself goes on.
 */
#include "config.h"

#include <signal.h>

#include "cli/exec-priv.h"

static gint run_stop;   /* --rounds reached */
static gint run_reload; /* SIGHUP seen */

static void
run_on_signal(int sig)
{
    (void) sig;
    g_atomic_int_set(&run_reload, 1);
}

static gboolean
run_stopping(void)
{
    return g_atomic_int_get(&run_stop) || vb_cli_exec_stopping();
}

typedef struct {
    VbCliExec ex;
    GMainLoop *loop;
    VbPolicy *policy;           /* owned after a reload, else NULL (ctx's) */
    guint sample_interval;      /* seconds */
    guint rebalance_interval;   /* seconds */
    guint max_rounds;           /* 0: until stopped */
    double drain_seconds;       /* SIGTERM: running migrations get this long */
    guint rounds;
    char *rule_warnings;        /* the rule warnings last logged, one per line, or NULL */
    VbCliRunMetrics *metrics;   /* /metrics (http_listen), or NULL */
    GHashTable *down;           /* owned host names the last snapshot could not read */
    gint64 last_sample_us, last_rebalance_us;
    int exit_code;
} Daemon;

static void
run_log_about(VbLogPriority priority, VbLogEvent event, const VbLogAbout *about,
              const char *format, ...) G_GNUC_PRINTF(4, 5);

/* One line of the daemon's log (cli/log.c: the journal, or a timestamped
 * line on stderr), also its STATUS= for systemd. */
static void
run_log_about(VbLogPriority priority, VbLogEvent event, const VbLogAbout *about,
              const char *format, ...)
{
    g_autofree char *text = NULL;
    va_list args;

    va_start(args, format);
    text = g_strdup_vprintf(format, args);
    va_end(args);
    vb_cli_log(priority, event, about, "%s", text);
    if (vb_cli_log_enabled(priority))
        vb_cli_notify_status("%s", text);
}

#define run_log(priority, ...) run_log_about((priority), VB_LOG_EVENT_NONE, NULL, __VA_ARGS__)

/* The policy file in force: --policy, else the config's. */
static const char *
run_policy_path(Daemon *d)
{
    VbCliContext *ctx = d->ex.ctx;

    if (ctx->policy_path)
        return ctx->policy_path;
    return ctx->config ? ctx->config->policy : NULL;
}

/* SIGHUP: a new config (intervals, policy path) and policy, each kept only
 * when it loads whole. */
static void
run_reload_files(Daemon *d)
{
    VbCliContext *ctx = d->ex.ctx;
    g_autoptr(GError) error = NULL;
    const char *path;
    VbPolicy *policy;

    if (ctx->config_path) {
        VbConfig *config = vb_config_load_file(ctx->config_path, &error);

        if (!config) {
            run_log(VB_LOG_WARNING, "reload: config refused, keeping the old one: %s",
                    error->message);
            g_clear_error(&error);
        } else {
            if (g_strcmp0(config->http_listen, ctx->config ? ctx->config->http_listen : NULL))
                run_log(VB_LOG_NOTICE, "reload: http_listen changes take effect at the next start");
            vb_config_free(ctx->config);
            ctx->config = config;
            d->sample_interval = MAX(config->sample_interval_seconds, 1u);
            d->rebalance_interval = MAX(config->rebalance_interval_seconds, 1u);
        }
    }
    path = run_policy_path(d);
    if (!path) {
        run_log(VB_LOG_NOTICE, "reload: no policy file (built-in defaults stay in force)");
        return;
    }
    policy = vb_policy_load_file(path, &error);
    if (!policy) {
        run_log(VB_LOG_WARNING, "reload: policy refused, keeping the old one: %s",
                error->message);
        return;
    }
    vb_policy_free(d->policy);
    d->policy = policy;
    d->ex.policy = policy;
    run_log(VB_LOG_NOTICE, "reload: policy %s in force", path);
}

/* Logs the hosts of @inv that could not be read, if any. */
static void
run_log_unread(const VbInventory *inv)
{
    g_autoptr(GString) list = g_string_new(NULL);
    guint n = vb_cli_unreachable_count(inv);

    if (n == 0)
        return;
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);

        const char *why = host->state_reason ? host->state_reason : "down";

        if (host->state != VB_HOST_STATE_DOWN)
            continue;
        if (list->len)
            g_string_append(list, "; ");
        /* Drivers' reasons start with the host's name; do not say it twice. */
        if (!g_str_has_prefix(why, host->name))
            g_string_append_printf(list, "%s: ", host->name);
        g_string_append(list, why);
    }
    run_log(VB_LOG_NOTICE, "partial view: %u of %u hosts could not be read, this round's plan "
            "leaves them out: %s", n, inv->hosts->len, list->str);
}

/* Logs each host that stopped answering since the previous round (warning,
 * MESSAGE_ID host down) and each that answers again (notice, host up): once
 * per change, while the partial-view line repeats every round. A host that
 * left the pool is forgotten silently. */
static void
run_log_host_changes(Daemon *d, const VbInventory *inv)
{
    g_autoptr(GPtrArray) down = g_ptr_array_new();
    g_autoptr(GPtrArray) up = g_ptr_array_new();

    vb_cli_unreachable_changes(d->down, inv, down, up);
    for (guint i = 0; i < down->len; i++) {
        const VbHost *host = g_ptr_array_index(down, i);
        VbLogAbout about = { .host = host->name, .reason = vb_cli_unreachable_reason(host) };

        run_log_about(VB_LOG_WARNING, VB_LOG_EVENT_HOST_DOWN, &about, "host %s is down: %s",
                      host->name, about.reason);
    }
    for (guint i = 0; i < up->len; i++) {
        const VbHost *host = g_ptr_array_index(up, i);
        VbLogAbout about = { .host = host->name };

        run_log_about(VB_LOG_NOTICE, VB_LOG_EVENT_HOST_UP, &about, "host %s answers again",
                      host->name);
    }
}

/* Logs the rules that do not match the pool (vb_placement_rule_warnings),
 * each as "FILE:LINE:COLUMN: warning: ...", when they differ from what the
 * previous round logged (a round every few minutes must not repeat them),
 * and says so once when they are gone. */
static void
run_log_rule_warnings(Daemon *d, const VbInventory *inv)
{
    g_autoptr(GArray) warnings = vb_placement_rule_warnings(inv, d->ex.policy);
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < warnings->len; i++) {
        g_autofree char *line = vb_cli_rule_warning_line(
            d->ex.policy, &g_array_index(warnings, VbRuleWarning, i), "warning");

        g_string_append_printf(text, "%s\n", line);
    }
    if (g_strcmp0(text->str, d->rule_warnings ? d->rule_warnings : "") == 0)
        return;
    if (text->len == 0)
        run_log(VB_LOG_NOTICE, "every rule matches guests of the pool again");
    else {
        g_auto(GStrv) lines = g_strsplit(text->str, "\n", -1);

        for (guint i = 0; lines[i] && lines[i][0]; i++)
            run_log(VB_LOG_WARNING, "%s", lines[i]);
    }
    g_free(d->rule_warnings);
    d->rule_warnings = g_string_free(g_steal_pointer(&text), FALSE);
}

/* automation manual or partial: the round's plan is journaled as a
 * recommendation (history shows it) and nothing is migrated. */
static void
run_recommend(Daemon *d, const VbInventory *inv, const VbPlan *plan)
{
    g_autoptr(GError) error = NULL;
    gint64 id = 0;

    if (!vb_cli_exec_recommend(&d->ex, inv, plan, &id, &error)) {
        run_log(VB_LOG_WARNING, "recommendation not recorded: %s", error->message);
        return;
    }
    run_log_about(VB_LOG_INFO, VB_LOG_EVENT_PLAN, NULL,
                  "recommending: %u moves, imbalance %.3f -> %.3f (automation: %s: nothing "
                  "migrated; plan %" G_GINT64_FORMAT " in 'virt-balancer history'); plan: %s",
                  plan->moves->len, plan->imbalance_before, plan->imbalance_after,
                  vb_automation_names[d->ex.policy->automation], id, plan->stop_reason);
}

static void
run_rebalance(Daemon *d)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbPlan) plan = NULL;
    VbPlanOptions opts = { .now = g_get_real_time() / G_USEC_PER_SEC };
    gint64 planning_us;

    d->ex.ctx->now = opts.now;
    /* A round that ended in an error (no fresh state, a migration whose
     * abort was refused) left its plan unfinished: finish it first, since
     * reconciliation only ever looks at the newest unfinished plan and a
     * newer one would hide it for good. */
    if (!vb_cli_exec_resume(&d->ex, &error)) {
        run_log(VB_LOG_WARNING, "rebalance skipped: the unfinished plan could not be resumed: %s",
                error->message);
        vb_cli_run_metrics_round(d->metrics, NULL, NULL, NULL, 0, 0);
        return;
    }
    inv = vb_cli_exec_snapshot(&d->ex, &error); /* after the resume: what it moved */
    if (inv)
        run_log_host_changes(d, inv);
    run_log_unread(inv);
    if (inv) {
        run_log_rule_warnings(d, inv);
        planning_us = g_get_monotonic_time();
        plan = vb_placement_rebalance(inv, d->ex.policy, &opts, &error);
        planning_us = g_get_monotonic_time() - planning_us;
        vb_cli_run_metrics_round(d->metrics, inv, d->ex.policy, plan, (double) opts.now,
                                 (double) planning_us / G_USEC_PER_SEC);
        if (plan) {
            VbCliPlanView view = { .inv = inv, .policy = d->ex.policy, .plan = plan,
                                   .source_name = d->ex.ctx->source_name };

            vb_cli_run_metrics_page(d->metrics, &view, opts.now);
        }
    } else
        vb_cli_run_metrics_round(d->metrics, NULL, NULL, NULL, 0, 0);
    if (!plan) {
        run_log(VB_LOG_WARNING, "rebalance skipped: %s", error->message);
        return;
    }
    /* "balanced" only when the target is met: hotspots and broken must
     * rules that no move mends are said, every round. */
    if (plan->moves->len == 0) {
        run_log(VB_LOG_INFO, "%s: %s", plan->target_met ? "balanced enough" : "no move helps",
                plan->stop_reason ? plan->stop_reason : "no move");
        return;
    }
    if (d->ex.policy->automation != VB_AUTOMATION_FULL) {
        run_recommend(d, inv, plan);
        return;
    }
    run_log_about(VB_LOG_INFO, VB_LOG_EVENT_PLAN, NULL,
                  "rebalancing: %u moves, imbalance %.3f -> %.3f; plan: %s", plan->moves->len,
                  plan->imbalance_before, plan->imbalance_after, plan->stop_reason);
    vb_cli_exec_plan(&d->ex, inv, plan);
}

static gboolean
run_tick(gpointer data)
{
    Daemon *d = data;
    gint64 now = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;

    vb_cli_notify_watchdog();
    if (g_atomic_int_get(&run_reload)) {
        g_atomic_int_set(&run_reload, 0);
        vb_cli_notify_reloading();
        run_reload_files(d);
        vb_cli_notify_ready();
    }
    if (run_stopping()) {
        vb_cli_notify_stopping();
        g_main_loop_quit(d->loop);
        return G_SOURCE_REMOVE;
    }
    if (now - d->last_sample_us >= (gint64) d->sample_interval * G_USEC_PER_SEC) {
        d->last_sample_us = now;
        if (!vb_collector_sample(d->ex.session->collector, &error))
            run_log(VB_LOG_WARNING, "sampling failed: %s", error->message);
    }
    if (now - d->last_rebalance_us >= (gint64) d->rebalance_interval * G_USEC_PER_SEC) {
        d->last_rebalance_us = now;
        run_rebalance(d);
        d->rounds++;
        if (d->max_rounds && d->rounds >= d->max_rounds)
            g_atomic_int_set(&run_stop, 1);
    }
    if (run_stopping()) {
        vb_cli_notify_stopping();
        g_main_loop_quit(d->loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void
run_signals(void)
{
    struct sigaction sa = { 0 };

    sa.sa_handler = run_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
}

/* Opens the pool, resumes, and runs the loop until stopped. */
static int
run_daemon(Daemon *d, VbCliContext *ctx, const char *database)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainContext) loop_context = g_main_context_new();
    g_autoptr(GSource) tick = g_timeout_source_new_seconds(1);

    if (!vb_cli_exec_open(&d->ex, ctx, database, FALSE, &error))
        return vb_cli_report_error(error);
    vb_cli_run_metrics_journal(d->metrics, d->ex.journal);
    d->ex.on_event = vb_cli_run_metrics_event;
    d->ex.on_event_data = d->metrics;
    run_log(VB_LOG_NOTICE, "started on %s (sample every %u s, rebalance every %u s); lock taken",
            ctx->source_name, d->sample_interval, d->rebalance_interval);
    vb_cli_notify_ready();
    if (!vb_cli_exec_resume(&d->ex, &error))
        return vb_cli_report_error(error);
    d->last_sample_us = d->last_rebalance_us = g_get_monotonic_time();
    /* The first round right away: a restarted daemon does not wait an interval. */
    d->last_rebalance_us -= (gint64) d->rebalance_interval * G_USEC_PER_SEC;
    /* A context of its own: libvirt's event thread iterates GLib's default
     * one (drivers/libvirt-conn.c), where a tick would run beside the first
     * round's executor, or stall libvirt's events for a whole round. */
    g_main_context_push_thread_default(loop_context);
    d->loop = g_main_loop_new(loop_context, FALSE);
    g_source_set_callback(tick, run_tick, d, NULL);
    g_source_attach(tick, loop_context);
    if (run_tick(d) == G_SOURCE_CONTINUE)
        g_main_loop_run(d->loop);
    g_source_destroy(tick);
    g_main_loop_unref(d->loop);
    g_main_context_pop_thread_default(loop_context);
    if (d->ex.left_running) {
        run_log(VB_LOG_WARNING, "stopped after %u rounds with migrations still running (see the "
                "report): the next run reconciles them; lock released", d->rounds);
        return VB_EXIT_INTERRUPTED;
    }
    run_log(VB_LOG_NOTICE, "stopped after %u rounds; lock released", d->rounds);
    return VB_EXIT_OK;
}

int
vb_cli_cmd_run(VbCliContext *ctx, int argc, char **argv)
{
    g_autofree char *database = NULL;
    gint rounds = 0, sample = 0, rebalance = 0, drain = 600;
    const GOptionEntry entries[] = {
        VB_CLI_OPTION_DATABASE(database),
        { "sample-interval", 0, 0, G_OPTION_ARG_INT, &sample,
          "seconds between samples (default: the config's)", "S" },
        { "rebalance-interval", 0, 0, G_OPTION_ARG_INT, &rebalance,
          "seconds between rebalances (default: the config's)", "S" },
        VB_CLI_OPTION_DRAIN_TIMEOUT(drain),
        { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "stop after N rebalances (tests)", "N" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GError) error = NULL;
    VbConfig *config;
    Daemon d = { 0 };
    int rc = VB_EXIT_OK;

    if (!vb_cli_parse_options(ctx, &argc, &argv, "run [--rounds N] [--drain-timeout S]",
                              "The periodic rebalancer: samples the pool and rebalances it at "
                              "the config's\nintervals. SIGHUP reloads the config and policy "
                              "(a broken file is refused and\nthe old one kept); SIGTERM lets "
                              "running migrations finish and exits.\nA round that cannot read "
                              "some hosts logs 'partial view: ...' naming them\nwith the "
                              "reason; its plan leaves them out.",
                              entries, &rc))
        return rc;
    if (argc > 1)
        return vb_cli_usage_error("run: unexpected argument '%s'", argv[1]);
    if (rounds < 0 || sample < 0 || rebalance < 0 || drain < 0)
        return vb_cli_usage_error("run: counts and intervals must be 0 or more");
    config = ctx->inventory_path ? NULL : vb_cli_context_get_config(ctx, &error);
    if (error)
        return vb_cli_report_error(error);
    d.sample_interval = sample ? (guint) sample : config ? MAX(config->sample_interval_seconds, 1u) : 60;
    d.rebalance_interval = rebalance ? (guint) rebalance
                           : config  ? MAX(config->rebalance_interval_seconds, 1u)
                                     : 300;
    d.max_rounds = (guint) rounds;
    d.drain_seconds = drain;
    g_atomic_int_set(&run_stop, 0);
    g_atomic_int_set(&run_reload, 0);
    vb_cli_log_set_daemon(TRUE);
    vb_cli_exec_catch_signals(d.drain_seconds);
    run_signals();
    if (config && config->http_listen) {
        g_autofree char *url = NULL;

        d.metrics = vb_cli_run_metrics_start(config->http_listen, &url, &error);
        if (!d.metrics)
            return vb_cli_report_error(error);
        run_log(VB_LOG_NOTICE, "metrics at %s", url);
    }
    d.down = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    rc = run_daemon(&d, ctx, database);
    vb_cli_run_metrics_free(d.metrics); /* before the journal it reads */
    vb_cli_exec_close(&d.ex);
    vb_policy_free(d.policy);
    g_free(d.rule_warnings);
    g_hash_table_unref(d.down);
    return rc;
}
