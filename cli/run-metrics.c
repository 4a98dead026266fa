/*
 * run-metrics.c: what `run` (cli/cmd-run.c) shows at /metrics when the
 * config sets http_listen (docs/metrics.md).
 *
 * The daemon keeps a VbMetrics model: each round replaces the snapshot and
 * plan part, and the journal's totals (migrations by outcome and kind,
 * durations) are read again after each round and each migration that
 * starts or ends (the executor's events, which arrive while the main loop is
 * blocked). Each change is rendered at once and handed to the server thread
 * (metrics/server.c), which answers scrapes with the latest text.
 *
 * The same server answers / with the HTML report of the latest round's plan
 * (cli/render-html.c; docs/metrics.md), a page saying no round has planned
 * yet until then.
 *
 * Every function accepts NULL (metrics off) and does nothing then. A journal
 * that cannot be read keeps the previous counts and says so at debug level:
 * metrics never stop the daemon.
 */
#include "config.h"

#include "cli/exec-priv.h"
#include "metrics/metrics.h"

struct _VbCliRunMetrics {
    VbMetrics *model;
    VbMetricsServer *server;
    VbJournal *journal;   /* borrowed: the daemon's, once open */
};

VbCliRunMetrics *
vb_cli_run_metrics_start(const char *listen, char **ret_url, GError **error)
{
    g_autoptr(VbMetricsServer) server = NULL;
    VbCliRunMetrics *rm;

    if (!listen)
        return NULL;
    server = vb_metrics_server_new(listen, ret_url, error);
    if (!server)
        return NULL;
    rm = g_new0(VbCliRunMetrics, 1);
    rm->model = vb_metrics_new();
    rm->server = g_steal_pointer(&server);
    vb_metrics_server_publish(rm->server, vb_metrics_render(rm->model));
    vb_metrics_server_publish_page(rm->server, "/", VB_CLI_HTML_TYPE,
                                   g_strdup("<!DOCTYPE html>\n<html lang=\"en\"><head>"
                                            "<meta charset=\"utf-8\"><title>virt-balancer"
                                            "</title></head><body><h1>virt-balancer</h1>"
                                            "<p>No round has planned yet.</p></body></html>\n"));
    return rm;
}

char *
vb_cli_run_page_note(const VbPolicy *policy, gint64 now)
{
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc(now);
    g_autofree char *stamp = when ? g_date_time_format_iso8601(when) : g_strdup("?");
    char *note;

    if (policy->automation == VB_AUTOMATION_FULL)
        note = g_strdup_printf("The daemon's round of %s: it runs this plan now; what each move "
                               "did is in the journal ('virt-balancer history') and at /metrics.",
                               stamp);
    else
        note = g_strdup_printf("The daemon's round of %s: a recommendation (automation: %s): "
                               "nothing is migrated; 'virt-balancer history' lists it, "
                               "'virt-balancer rebalance' or a saved plan runs it.",
                               stamp, vb_automation_names[policy->automation]);
    return note;
}

void
vb_cli_run_metrics_page(VbCliRunMetrics *rm, const VbCliPlanView *view, gint64 now)
{
    g_autofree char *note = NULL;
    VbCliPlanView page;

    if (!rm)
        return;
    note = vb_cli_run_page_note(view->policy, now);
    page = *view;
    page.html_note = note;
    vb_metrics_server_publish_page(rm->server, "/", VB_CLI_HTML_TYPE,
                                   vb_cli_render_plan_html(&page));
}

void
vb_cli_run_metrics_free(VbCliRunMetrics *rm)
{
    if (!rm)
        return;
    vb_metrics_server_free(rm->server);
    vb_metrics_free(rm->model);
    g_free(rm);
}

static void
run_metrics_publish(VbCliRunMetrics *rm)
{
    vb_metrics_server_publish(rm->server, vb_metrics_render(rm->model));
}

static void
run_metrics_read_journal(VbCliRunMetrics *rm)
{
    g_autoptr(GError) error = NULL;
    VbJournalTotals totals;

    if (!rm->journal)
        return;
    if (!vb_journal_totals(rm->journal, &totals, &error)) {
        g_debug("metrics: the journal's totals are unchanged: %s", error->message);
        return;
    }
    vb_metrics_set_totals(rm->model, &totals);
    vb_journal_totals_clear(&totals);
}

void
vb_cli_run_metrics_journal(VbCliRunMetrics *rm, VbJournal *journal)
{
    if (!rm)
        return;
    rm->journal = journal;
    run_metrics_read_journal(rm);
    run_metrics_publish(rm);
}

void
vb_cli_run_metrics_round(VbCliRunMetrics *rm, const VbInventory *inv, const VbPolicy *policy,
                         const VbPlan *plan, double plan_time, double plan_seconds)
{
    if (!rm)
        return;
    if (inv) {
        vb_metrics_set_round(rm->model, inv, policy, plan, plan_time, plan_seconds);
        rm->model->rounds_ok++;
    } else
        rm->model->rounds_skipped++;
    run_metrics_read_journal(rm);
    run_metrics_publish(rm);
}

void
vb_cli_run_metrics_event(const VbExecEvent *event, gpointer data)
{
    VbCliRunMetrics *rm = data;

    /* Progress polls change nothing the journal counts. */
    if (!rm || event->kind == VB_EXEC_PROGRESS || event->kind == VB_EXEC_QUEUED)
        return;
    run_metrics_read_journal(rm);
    run_metrics_publish(rm);
}
