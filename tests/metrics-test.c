/*
 * metrics-test.c: the metrics module (metrics/): the model built from a
 * snapshot and a plan, the exposition text (expected files in
 * tests/data/metrics/, VB_REGENERATE=1 rewrites them), escaping, the
 * histogram's buckets, the journal's totals, and the HTTP server on a
 * loopback socket. tests/metrics-http-test.sh runs the daemon and an
 * independent OpenMetrics parser.
 */
#include "config.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "metrics/metrics.h"
#include "tests/testutil.h"

/* The model of tests/data/metrics/NAME.yaml under NAME.policy.yaml after one
 * rebalance plan, at a fixed time and planning duration. */
static VbMetrics *
model_of(const char *name, VbInventory **ret_inv)
{
    g_autofree char *inv_rel = g_strdup_printf("metrics/%s.yaml", name);
    g_autofree char *pol_rel = g_strdup_printf("metrics/%s.policy.yaml", name);
    g_autofree char *inv_path = vb_test_data_path(inv_rel);
    g_autofree char *pol_path = vb_test_data_path(pol_rel);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = vb_inventory_load_file(inv_path, &error);
    g_autoptr(VbPolicy) policy = NULL;
    g_autoptr(VbPlan) plan = NULL;
    VbPlanOptions opts = { .now = 1700000000 };
    VbMetrics *m = vb_metrics_new();

    ck_assert_msg(inv, "%s", error ? error->message : "");
    policy = vb_policy_load_file(pol_path, &error);
    ck_assert_msg(policy, "%s", error ? error->message : "");
    plan = vb_placement_rebalance(inv, policy, &opts, &error);
    ck_assert_msg(plan, "%s", error ? error->message : "");
    vb_metrics_set_round(m, inv, policy, plan, 1700000000.0, 0.25);
    if (ret_inv)
        *ret_inv = g_steal_pointer(&inv);
    return m;
}

static const VbMetricsHost *
host_of(const VbMetrics *m, const char *name)
{
    for (guint i = 0; i < m->hosts->len; i++) {
        const VbMetricsHost *h = &g_array_index(m->hosts, VbMetricsHost, i);

        if (g_str_equal(h->name, name))
            return h;
    }
    ck_abort_msg("no host %s in the model", name);
    return NULL;
}

/* ------------------------------------------------------------ the model */

START_TEST(test_model_two_pools)
{
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbMetrics) m = model_of("two-pools", &inv);
    const VbMetricsPool *rack, *edge;
    const VbMetricsHotspot *hs;
    double w1 = host_of(m, "kvm1")->weighted, w2 = host_of(m, "kvm2")->weighted;
    double w3 = host_of(m, "e1")->weighted;
    double mean = (w1 + w2) / 2;

    ck_assert_uint_eq(m->hosts->len, 5);
    ck_assert_uint_eq(m->pools->len, 2);
    ck_assert_uint_eq(m->hosts_unreachable, 1);           /* e2; e3 is in maintenance */
    ck_assert_int_eq(host_of(m, "e2")->state, VB_HOST_STATE_DOWN);
    ck_assert_int_eq(host_of(m, "e3")->state, VB_HOST_STATE_MAINTENANCE);
    ck_assert_uint_eq(host_of(m, "kvm1")->guests, 3);
    ck_assert_double_eq_tol(host_of(m, "kvm1")->load[VB_METRIC_MEMORY], 61600.0 / 65536, 1e-9);
    rack = &g_array_index(m->pools, VbMetricsPool, 0);
    edge = &g_array_index(m->pools, VbMetricsPool, 1);
    ck_assert_str_eq(rack->name, "rack");
    /* Each pool's own standard deviation: rack's two hosts; edge has one
     * host taking part (e2 down, e3 in maintenance). */
    ck_assert_double_eq_tol(rack->imbalance, sqrt(((w1 - mean) * (w1 - mean) +
                                                   (w2 - mean) * (w2 - mean)) / 2), 1e-9);
    ck_assert_double_eq_tol(edge->imbalance, 0.0, 1e-12);
    ck_assert_double_eq_tol(m->imbalance, sqrt(2 * rack->imbalance * rack->imbalance / 3), 1e-9);
    ck_assert(w3 > 0);
    /* The stuck hotspot: counted in its pool, listed with its loads. */
    ck_assert_uint_eq(rack->hotspots, 1);
    ck_assert_uint_eq(edge->hotspots, 0);
    ck_assert_uint_eq(m->hotspots->len, 1);
    hs = &g_array_index(m->hotspots, VbMetricsHotspot, 0);
    ck_assert_str_eq(hs->host, "kvm1");
    ck_assert_str_eq(hs->pool, "rack");
    ck_assert_int_eq(hs->metric, VB_METRIC_MEMORY);
    ck_assert(hs->load > 0.8 && hs->planned_load > 0.8);
    ck_assert(m->have_plan && !m->target_met);
    ck_assert_uint_eq(m->plan_moves, 0);
}
END_TEST

/* Without a plan (the planner refused): loads computed from the snapshot,
 * hotspots counted by the same rule, no plan figures. */
START_TEST(test_model_without_plan)
{
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbMetrics) with = model_of("two-pools", &inv);
    g_autoptr(VbMetrics) m = vb_metrics_new();
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autofree char *text = NULL;

    policy->weights[VB_METRIC_DISK] = 0;
    vb_metrics_set_round(m, inv, policy, NULL, 0, 0);
    ck_assert(m->have_snapshot && !m->have_plan);
    ck_assert_double_eq_tol(host_of(m, "kvm1")->load[VB_METRIC_MEMORY],
                            host_of(with, "kvm1")->load[VB_METRIC_MEMORY], 1e-12);
    ck_assert_uint_eq(g_array_index(m->pools, VbMetricsPool, 0).hotspots, 1);
    text = vb_metrics_render(m);
    ck_assert_ptr_null(strstr(text, "\nvirt_balancer_last_plan_moves "));
    ck_assert_ptr_nonnull(strstr(text, "\nvirt_balancer_hosts_unreachable 1\n"));
}
END_TEST

/* ------------------------------------------------------------- the text */

static void
totals_fill(VbJournalTotals *t)
{
    static const double live[] = { 0.5, 1.0, 1.5, 5.0, 42.0, 7200.0 };
    static const double cold[] = { 30.0 };

    memset(t, 0, sizeof(*t));
    for (guint k = 0; k < VB_MOVE_KIND_LAST; k++)
        t->seconds[k] = g_array_new(FALSE, FALSE, sizeof(double));
    g_array_append_vals(t->seconds[VB_MOVE_LIVE], live, G_N_ELEMENTS(live));
    g_array_append_vals(t->seconds[VB_MOVE_COLD], cold, G_N_ELEMENTS(cold));
    t->moves[VB_MOVE_STATE_FINISHED][VB_MOVE_LIVE] = 6;
    t->moves[VB_MOVE_STATE_FINISHED][VB_MOVE_COLD] = 1;
    t->moves[VB_MOVE_STATE_FAILED][VB_MOVE_LIVE_STORAGE] = 2;
    t->moves[VB_MOVE_STATE_SKIPPED][VB_MOVE_LIVE] = 3;
    t->moves[VB_MOVE_STATE_STARTED][VB_MOVE_LIVE] = 1;
    t->moves[VB_MOVE_STATE_QUEUED][VB_MOVE_LIVE] = 4;
}

/* The whole exposition of each case, against its expected file. */
START_TEST(test_render_cases)
{
    static const char *const cases[] = { "two-pools" };
    g_autoptr(VbMetrics) m = model_of(cases[_i], NULL);
    g_autofree char *rel = g_strdup_printf("metrics/%s.txt", cases[_i]);
    g_autofree char *expected = vb_test_data_path(rel);
    g_autofree char *text = NULL;
    VbJournalTotals t;

    totals_fill(&t);
    vb_metrics_set_totals(m, &t);
    vb_journal_totals_clear(&t);
    m->rounds_ok = 3;
    m->rounds_skipped = 1;
    g_free(m->version);
    m->version = g_strdup("0.0-test"); /* the expectation outlives releases */
    text = vb_metrics_render(m);
    vb_test_compare_file(expected, text);
}
END_TEST

/* Every family has TYPE then HELP before its samples, and the text ends
 * with "# EOF" even when nothing happened yet. */
START_TEST(test_render_empty)
{
    g_autoptr(VbMetrics) m = vb_metrics_new();
    g_autofree char *text = vb_metrics_render(m);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint types = 0, samples = 0;

    ck_assert(g_str_has_suffix(text, "\n# EOF\n"));
    for (guint i = 0; lines[i] && lines[i][0]; i++) {
        if (g_str_has_prefix(lines[i], "# TYPE ")) {
            g_auto(GStrv) w = g_strsplit(lines[i], " ", 4);
            g_autofree char *help = g_strdup_printf("# HELP %s ", w[2]);
            guint j = i + 1;

            types++;
            if (g_str_has_prefix(lines[j], "# UNIT "))
                j++;
            ck_assert_msg(g_str_has_prefix(lines[j], help), "%s has no HELP", w[2]);
            ck_assert(g_str_has_prefix(w[2], "virt_balancer_"));
        } else if (lines[i][0] != '#')
            samples++;
    }
    ck_assert_uint_eq(types, 24);
    /* build_info, rounds (2), migrations (12), running (3), histogram (3 x 13). */
    ck_assert_uint_eq(samples, 1 + 2 + 12 + 3 + 3 * (VB_METRICS_N_BOUNDS + 3));
}
END_TEST

/* Label values from the admin's files are escaped: backslash, double quote,
 * newline. */
START_TEST(test_render_escapes)
{
    g_autoptr(VbMetrics) m = vb_metrics_new();
    g_autofree char *text = NULL;
    VbMetricsHost h = { .name = g_strdup("kvm\"1\\a\nb"), .pool = g_strdup("r") };

    g_array_append_val(m->hosts, h);
    m->have_snapshot = TRUE;
    text = vb_metrics_render(m);
    ck_assert_msg(strstr(text, "\nvirt_balancer_host_guests{pool=\"r\",host=\"kvm\\\"1\\\\a\\nb\"} 0\n"),
                  "%s", text);
}
END_TEST

/* Buckets are cumulative and inclusive of their bound; count and sum match. */
START_TEST(test_render_histogram)
{
    g_autoptr(VbMetrics) m = vb_metrics_new();
    g_autofree char *text = NULL;
    VbJournalTotals t;
    static const char *const want[] = {
        "{kind=\"live\",le=\"1.0\"} 2\n",    /* 0.5 and 1.0 */
        "{kind=\"live\",le=\"5.0\"} 4\n",    /* + 1.5, 5.0 */
        "{kind=\"live\",le=\"30.0\"} 4\n",
        "{kind=\"live\",le=\"60.0\"} 5\n",   /* + 42 */
        "{kind=\"live\",le=\"3600.0\"} 5\n",
        "{kind=\"live\",le=\"+Inf\"} 6\n",   /* + 7200 */
        "{kind=\"cold\",le=\"10.0\"} 0\n",
        "{kind=\"cold\",le=\"30.0\"} 1\n",
    };

    totals_fill(&t);
    vb_metrics_set_totals(m, &t);
    vb_journal_totals_clear(&t);
    text = vb_metrics_render(m);
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        g_autofree char *line = g_strconcat("\nvirt_balancer_migration_duration_seconds_bucket",
                                            want[i], NULL);

        ck_assert_msg(strstr(text, line), "no %s in\n%s", line, text);
    }
    ck_assert(strstr(text, "\nvirt_balancer_migration_duration_seconds_count{kind=\"live\"} 6\n"));
    ck_assert(strstr(text, "\nvirt_balancer_migration_duration_seconds_sum{kind=\"live\"} 7250\n"));
    ck_assert(strstr(text, "\nvirt_balancer_migrations_total{outcome=\"failed\",kind=\"live-storage\"} 2\n"));
    ck_assert(strstr(text, "\nvirt_balancer_migrations_running{kind=\"live\"} 1\n"));
    /* Queued moves have no outcome yet. */
    ck_assert_ptr_null(strstr(text, "outcome=\"queued\""));
}
END_TEST

/* ------------------------------------------------------ journal totals */

START_TEST(test_journal_totals)
{
    g_autoptr(GError) error = NULL;
    VbStore *store = vb_store_open(":memory:", &error);
    VbJournal *journal;
    VbJournalTotals t;
    gint64 plan, a, b, c, d;

    ck_assert_msg(store, "%s", error ? error->message : "");
    journal = vb_journal_open(store, &error);
    ck_assert_msg(journal, "%s", error ? error->message : "");
    ck_assert(vb_journal_plan_begin(journal, VB_PLAN_REBALANCE, NULL, &plan, &error));
    ck_assert(vb_journal_move_add(journal, plan, "a", "h0", "h1", VB_MOVE_LIVE, 10, &a, &error));
    ck_assert(vb_journal_move_add(journal, plan, "b", "h0", "h1", VB_MOVE_LIVE, 10, &b, &error));
    ck_assert(vb_journal_move_add(journal, plan, "c", "h0", "h1", VB_MOVE_COLD, 10, &c, &error));
    ck_assert(vb_journal_move_add(journal, plan, "d", "h0", "h1", VB_MOVE_LIVE, 10, &d, &error));
    ck_assert(vb_journal_move_set_state(journal, a, VB_MOVE_STATE_STARTED, 1, 10, NULL, &error));
    ck_assert(vb_journal_move_set_state(journal, a, VB_MOVE_STATE_FINISHED, 1, 40, NULL, &error));
    /* Found finished by reconciliation: counted, its duration is not. */
    ck_assert(vb_journal_move_set_state(journal, b, VB_MOVE_STATE_STARTED, 1, 10, NULL, &error));
    ck_assert(vb_journal_move_set_state(journal, b, VB_MOVE_STATE_FINISHED, 1, 900,
                                        "found finished after a restart", &error));
    ck_assert(vb_journal_move_set_state(journal, c, VB_MOVE_STATE_STARTED, 1, 5, NULL, &error));
    ck_assert(vb_journal_move_set_state(journal, c, VB_MOVE_STATE_FAILED, 1, 6, "no", &error));
    ck_assert(vb_journal_totals(journal, &t, &error));
    ck_assert_uint_eq(t.moves[VB_MOVE_STATE_FINISHED][VB_MOVE_LIVE], 2);
    ck_assert_uint_eq(t.moves[VB_MOVE_STATE_FAILED][VB_MOVE_COLD], 1);
    ck_assert_uint_eq(t.moves[VB_MOVE_STATE_QUEUED][VB_MOVE_LIVE], 1);
    ck_assert_uint_eq(t.seconds[VB_MOVE_LIVE]->len, 1);
    ck_assert_double_eq_tol(g_array_index(t.seconds[VB_MOVE_LIVE], double, 0), 30.0, 1e-9);
    ck_assert_uint_eq(t.seconds[VB_MOVE_COLD]->len, 0);
    vb_journal_totals_clear(&t);
    vb_journal_totals_clear(NULL);
    vb_journal_free(journal);
    vb_store_free(store);
}
END_TEST

/* ------------------------------------------------------------ the server */

/* One HTTP/1.0 exchange with @url's host and port: the whole answer. */
static char *
http_exchange(const char *url, const char *request)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_uri(client, url, 80, NULL,
                                                                       &error);
    g_autoptr(GString) answer = g_string_new(NULL);
    char buf[4096];
    gssize n;

    ck_assert_msg(conn, "%s: %s", url, error ? error->message : "");
    ck_assert(g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
                                        request, strlen(request), NULL, NULL, &error));
    while ((n = g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(conn)), buf,
                                    sizeof(buf), NULL, &error)) > 0)
        g_string_append_len(answer, buf, n);
    ck_assert_msg(n == 0, "%s", error ? error->message : "");
    return g_string_free(g_steal_pointer(&answer), FALSE);
}

/* This thread only blocks on its socket while the server answers: the
 * server needs no main loop of its caller (the daemon's is blocked while
 * migrations run). */
START_TEST(test_server)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *url = NULL;
    g_autoptr(VbMetricsServer) server = vb_metrics_server_new("127.0.0.1:0", &url, &error);
    g_autofree char *ok = NULL, *head = NULL, *missing = NULL, *post = NULL, *again = NULL;
    g_autofree char *page = NULL;
    g_autoptr(VbMetricsServer) clash = NULL;
    g_autofree char *port = NULL;

    ck_assert_msg(server, "%s", error ? error->message : "");
    ck_assert(g_str_has_prefix(url, "http://127.0.0.1:") && g_str_has_suffix(url, "/metrics"));
    vb_metrics_server_publish(server, g_strdup("a 1\n# EOF\n"));
    ok = http_exchange(url, "GET /metrics HTTP/1.0\r\n\r\n");
    ck_assert_msg(g_str_has_prefix(ok, "HTTP/1.0 200"), "%s", ok);
    ck_assert_msg(strstr(ok, "\r\nContent-Type: " VB_METRICS_CONTENT_TYPE "\r\n"), "%s", ok);
    ck_assert(g_str_has_suffix(ok, "\r\n\r\na 1\n# EOF\n"));
    /* HEAD: the headers only. */
    head = http_exchange(url, "HEAD /metrics HTTP/1.0\r\n\r\n");
    ck_assert_msg(g_str_has_prefix(head, "HTTP/1.0 200"), "%s", head);
    ck_assert(g_str_has_suffix(head, "\r\n\r\n"));
    missing = http_exchange(url, "GET / HTTP/1.0\r\n\r\n");
    ck_assert_msg(g_str_has_prefix(missing, "HTTP/1.0 404"), "%s", missing);
    post = http_exchange(url, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    ck_assert_msg(g_str_has_prefix(post, "HTTP/1.0 405"), "%s", post);
    ck_assert(strstr(post, "\r\nAllow: GET, HEAD\r\n"));
    /* Another page, once published. */
    vb_metrics_server_publish_page(server, "/", "text/html; charset=utf-8",
                                   g_strdup("<p>report</p>"));
    page = http_exchange(url, "GET / HTTP/1.0\r\n\r\n");
    ck_assert_msg(g_str_has_prefix(page, "HTTP/1.0 200"), "%s", page);
    ck_assert(strstr(page, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
    ck_assert(g_str_has_suffix(page, "\r\n\r\n<p>report</p>"));
    /* A new text replaces the old one. */
    vb_metrics_server_publish(server, g_strdup("b 2\n# EOF\n"));
    again = http_exchange(url, "GET /metrics HTTP/1.0\r\n\r\n");
    ck_assert(g_str_has_suffix(again, "\r\n\r\nb 2\n# EOF\n"));
    /* The port taken: an error naming the address. */
    port = g_strndup(url + strlen("http://"), strlen(url) - strlen("http://") - strlen("/metrics"));
    clash = vb_metrics_server_new(port, NULL, &error);
    ck_assert_ptr_null(clash);
    ck_assert_msg(g_error_matches(error, VB_ERROR, VB_ERROR_IO) && strstr(error->message, port),
                  "%s", error ? error->message : "");
}
END_TEST

static Suite *
metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_test(tc, test_model_two_pools);
    tcase_add_test(tc, test_model_without_plan);
    tcase_add_loop_test(tc, test_render_cases, 0, 1);
    tcase_add_test(tc, test_render_empty);
    tcase_add_test(tc, test_render_escapes);
    tcase_add_test(tc, test_render_histogram);
    tcase_add_test(tc, test_journal_totals);
    tcase_add_test(tc, test_server);
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(metrics_suite)
