/*
 * vb-metrics-bench.c: what /metrics costs at pool sizes up to 10,000 hosts.
 *
 * For each size it generates a seeded pool (vb_inventory_generate, 20
 * guests a host, pools of 100 hosts), plans a rebalance with the built-in
 * policy, and measures (median of 5; the model and the text in CPU time of
 * this thread, so that a busy machine does not inflate them, the GET in
 * wall time):
 *   - vb_metrics_set_round (copying the snapshot and plan into the model),
 *   - vb_metrics_render (the text),
 *   - one GET of /metrics through the server on a loopback port (client:
 *     GIO's socket client; the whole answer read),
 * and prints the text's size and sample lines. Figures only; nothing here is
 * asserted. Output is a Markdown table (docs/metrics.md keeps the latest).
 *
 * Usage: vb-metrics-bench [--sizes 100,1000,10000]
 */
#include "config.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics.h"

#define REPS 5

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

static double
median(double *v, guint n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return v[n / 2];
}

/* This thread's CPU time, in microseconds. */
static gint64
cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Milliseconds one GET of @url takes, the whole answer read. */
static double
fetch_ms(const char *url, gsize *ret_bytes)
{
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketConnection) conn = NULL;
    const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
    gint64 t0 = g_get_monotonic_time();
    char buf[65536];
    gssize n;
    gsize total = 0;

    conn = g_socket_client_connect_to_uri(client, url, 80, NULL, NULL);
    if (!conn) {
        fprintf(stderr, "cannot connect to %s\n", url);
        exit(1);
    }
    g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), req,
                              strlen(req), NULL, NULL, NULL);
    while ((n = g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(conn)), buf,
                                    sizeof(buf), NULL, NULL)) > 0)
        total += (gsize) n;
    *ret_bytes = total;
    return (double) (g_get_monotonic_time() - t0) / 1000.0;
}

static void
bench_size(guint hosts, VbMetricsServer *server, const char *url)
{
    VbGenerateParams params;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbMetrics) m = vb_metrics_new();
    g_autofree char *text = NULL;
    VbPlanOptions opts = { .now = 1700000000 };
    double set[REPS], render[REPS], get[REPS];
    gsize bytes = 0, lines = 0;

    vb_generate_params_init(&params);
    params.n_hosts = hosts;
    params.n_vms = hosts * 20;
    params.n_pools = MAX(hosts / 100, 1);
    inv = vb_inventory_generate(&params);
    plan = vb_placement_rebalance(inv, policy, &opts, NULL);
    for (guint r = 0; r < REPS; r++) {
        gint64 t0 = cpu_us();

        vb_metrics_set_round(m, inv, policy, plan, 1700000000.0, 0.1);
        set[r] = (double) (cpu_us() - t0) / 1000.0;
        g_free(text);
        t0 = cpu_us();
        text = vb_metrics_render(m);
        render[r] = (double) (cpu_us() - t0) / 1000.0;
    }
    vb_metrics_server_publish(server, g_strdup(text));
    for (guint r = 0; r < REPS; r++)
        get[r] = fetch_ms(url, &bytes);
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    printf("| %u | %u | %.2f | %.2f | %.2f | %zu | %zu |\n", hosts, params.n_vms,
           median(set, REPS), median(render, REPS), median(get, REPS), strlen(text), lines);
}

int
main(int argc, char **argv)
{
    const char *sizes = "100,1000,10000";
    g_auto(GStrv) list = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *url = NULL;
    g_autoptr(VbMetricsServer) server = NULL;

    if (argc == 3 && g_str_equal(argv[1], "--sizes"))
        sizes = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "usage: vb-metrics-bench [--sizes 100,1000,10000]\n");
        return 2;
    }
    server = vb_metrics_server_new("127.0.0.1:0", &url, &error);
    if (!server) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    printf("| hosts | guests | model ms (CPU) | render ms (CPU) | GET ms (wall) | bytes | lines |\n");
    printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    list = g_strsplit(sizes, ",", -1);
    for (guint i = 0; list[i]; i++)
        bench_size((guint) g_ascii_strtoull(list[i], NULL, 10), server, url);
    return 0;
}
