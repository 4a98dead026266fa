/*
 * vb-collect.c: how much a sampling round over a large pool costs, through
 * the real libvirt driver.
 *
 * Each host is libvirt's test driver opened from a node file of its own
 * (test:///FOLDER/hN.xml: 64 CPUs, 256 GiB, a `default` storage pool and
 * --guests running guests), generated for each size in a temporary folder.
 * The test driver runs inside this process, so there is no daemon and no
 * socket: what is measured is the driver's own work (queueing, workers,
 * deadlines, libvirt's client calls, filling samples) plus the test driver
 * answering, and the memory of the test hosts is in this process's RSS
 * (reported after open, so the rounds' own growth shows).
 *
 * For each size, in a child process of its own (peak RSS is that size's):
 * open (every host connects), --rounds sample rounds by the driver, as many
 * of the daemon's samples (the round written to a history database file in
 * the folder: what the daemon does every sample_interval), then one snapshot. Wall time on the monotonic clock,
 * CPU time (user + system, all threads) from getrusage, the most threads the
 * process had (read from /proc/self/status every 5 ms by one more thread,
 * which is not counted) during open and during the rounds, RSS after open and
 * at its peak, and how many hosts answered. Output is a Markdown table.
 *
 * The same source builds against a tree without max_parallel_hosts (the
 * one-thread-per-host driver), so old and new can be compared in one session.
 *
 * Usage: vb-collect [--sizes 1000,10000] [--guests 20] [--rounds 3]
 *                   [--workers N] [--timeout SECONDS] [--keep DIR]
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/machine.h"
#include "collectors/collectors.h"
#include "drivers/drivers.h"
#include "pool/pool.h"

typedef struct {
    guint guests;     /* per host */
    guint rounds;     /* sample rounds timed */
    guint workers;    /* max_parallel_hosts; 0: the build's default */
    guint timeout;    /* connect_timeout, seconds */
    guint snapshots;  /* snapshots timed: the first, then the later ones */
} CollectArgs;

/* Wall and CPU seconds of one timed step. */
typedef struct {
    double wall, cpu;
} CollectTime;

/* ------------------------------------------------------------ measuring */

static volatile gboolean poll_stop;
static volatile guint poll_peak; /* most threads seen since the last reset */

static guint
status_field(const char *key)
{
    g_autofree char *text = NULL;
    const char *at;

    if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL) || !(at = strstr(text, key)))
        return 0;
    return (guint) g_ascii_strtoull(at + strlen(key), NULL, 10);
}

static gpointer
poll_threads(gpointer data)
{
    while (!poll_stop) {
        guint n = status_field("Threads:");

        if (n > poll_peak)
            poll_peak = n;
        g_usleep(5000);
    }
    return NULL;
}

static double
cpu_seconds(void)
{
    struct rusage usage;

    getrusage(RUSAGE_SELF, &usage);
    return (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
           (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static void
time_start(CollectTime *t)
{
    t->wall = (double) g_get_monotonic_time() / G_USEC_PER_SEC;
    t->cpu = cpu_seconds();
}

static void
time_stop(CollectTime *t)
{
    t->wall = (double) g_get_monotonic_time() / G_USEC_PER_SEC - t->wall;
    t->cpu = cpu_seconds() - t->cpu;
}

/* ------------------------------------------------------------ the pool */

/* Host @h's node file: the test driver starts every guest it lists. */
static void
write_host(const char *dir, guint h, guint guests)
{
    g_autofree char *path = g_strdup_printf("%s/h%05u.xml", dir, h);
    g_autoptr(GString) xml = g_string_new("<node>\n"
                                          "  <cpu><mhz>2800</mhz><model>x86_64</model>"
                                          "<nodes>1</nodes><sockets>2</sockets><cores>16</cores>"
                                          "<threads>2</threads><active>64</active></cpu>\n"
                                          "  <memory>268435456</memory>\n");
    g_autoptr(GError) error = NULL;

    for (guint g = 0; g < guests; g++)
        g_string_append_printf(xml,
                               "  <domain type='test'><name>h%05u-g%02u</name>"
                               "<memory>%u</memory><vcpu>%u</vcpu>"
                               "<os><type>hvm</type></os></domain>\n",
                               h, g, (1u + g % 8) * 1048576, 1 + g % 4);
    g_string_append(xml, "  <pool type='dir'><name>default</name>"
                         "<target><path>/var/lib/libvirt/images</path></target></pool>\n"
                         "</node>\n");
    if (!g_file_set_contents(path, xml->str, (gssize) xml->len, &error))
        g_error("%s", error->message);
}

/* A libvirt config of @hosts test hosts in @dir, one pool (transfer full). */
static VbConfig *
collect_config(const char *dir, guint hosts, const CollectArgs *args)
{
    VbConfig *config = vb_config_new_default();
    VbConfigPool *pool = g_new0(VbConfigPool, 1);

    config->connect_timeout_seconds = args->timeout;
#ifdef VB_CONFIG_MAX_PARALLEL_HOSTS_DEFAULT
    if (args->workers)
        config->max_parallel_hosts = args->workers;
#endif
    pool->name = g_strdup("bench");
    pool->hosts = g_ptr_array_new_with_free_func((GDestroyNotify) vb_config_host_free);
    for (guint h = 0; h < hosts; h++) {
        VbConfigHost *ch = g_new0(VbConfigHost, 1);

        ch->name = g_strdup_printf("h%05u", h);
        ch->uri = g_strdup_printf("test://%s/h%05u.xml", dir, h);
        g_ptr_array_add(pool->hosts, ch);
    }
    g_ptr_array_add(config->pools, pool);
    return config;
}

static int
cmp_time(const void *a, const void *b)
{
    double x = ((const CollectTime *) a)->wall, y = ((const CollectTime *) b)->wall;

    return x < y ? -1 : x > y;
}

static guint
hosts_up(const VbSampleSet *set)
{
    guint up = 0;

    for (guint i = 0; i < set->hosts->len; i++)
        up += ((const VbHostSample *) g_ptr_array_index(set->hosts, i))->up;
    return up;
}

/* The daemon's sample: the same round, then written to the history (a
 * database file in @dir), @args->rounds times. */
static gboolean
collect_daemon_rounds(VbConn *conn, const VbConfig *config, const char *dir,
                      const CollectArgs *args, CollectTime *ret_times)
{
    g_autofree char *path = g_build_filename(dir, "state.db", NULL);
    g_autoptr(GError) error = NULL;
    VbStore *store = vb_store_open(path, &error);
    VbCollector *collector = store ? vb_collector_new(conn, &vb_driver_libvirt, store, config,
                                                      &error)
                                   : NULL;
    gboolean ok = collector != NULL;

    for (guint r = 0; ok && r < args->rounds; r++) {
        time_start(&ret_times[r]);
        ok = vb_collector_sample(collector, &error);
        time_stop(&ret_times[r]);
    }
    if (!ok)
        fprintf(stderr, "vb-collect: %s\n", error->message);
    vb_collector_free(collector);
    vb_store_free(store);
    g_unlink(path);
    for (guint i = 0; i < 2; i++) {
        g_autofree char *side = g_strconcat(path, i ? "-shm" : "-wal", NULL);

        g_unlink(side);
    }
    return ok;
}

/* One snapshot of every host, timed; FALSE (said) when it failed. */
static gboolean
collect_snapshot(VbConn *conn, CollectTime *ret_time)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = NULL;

    time_start(ret_time);
    inv = vb_driver_libvirt.snapshot(conn, &error);
    time_stop(ret_time);
    if (!inv)
        fprintf(stderr, "vb-collect: snapshot: %s\n", error->message);
    return inv != NULL;
}

/* Measures one size (in a child process) and prints its table row. */
static int
collect_one(const char *dir, guint hosts, const CollectArgs *args)
{
    g_autoptr(VbConfig) config = collect_config(dir, hosts, args);
    g_autoptr(GError) error = NULL;
    g_autofree CollectTime *rounds = g_new0(CollectTime, args->rounds);
    g_autofree CollectTime *daemon_rounds = g_new0(CollectTime, args->rounds);
    g_autofree CollectTime *snaps = g_new0(CollectTime, args->snapshots);
    GThread *poller = g_thread_new("vb-bench-poll", poll_threads, NULL);
    CollectTime open_t, later = { 0, 0 };
    gboolean snapped = TRUE;
    guint open_threads, round_threads, rss_open, up = 0;
    VbConn *conn;

    time_start(&open_t);
    conn = vb_driver_libvirt.open(config, &error);
    time_stop(&open_t);
    if (!conn) {
        fprintf(stderr, "vb-collect: %s\n", error->message);
        return 1;
    }
    g_usleep(20000);
    open_threads = poll_peak;
    rss_open = status_field("VmRSS:");
    poll_peak = 0;
    for (guint r = 0; r < args->rounds; r++) {
        g_autoptr(VbSampleSet) set = NULL;

        time_start(&rounds[r]);
        set = vb_driver_libvirt.sample(conn, &error);
        time_stop(&rounds[r]);
        up = set ? hosts_up(set) : 0;
    }
    if (!collect_daemon_rounds(conn, config, dir, args, daemon_rounds))
        return 1;
    g_usleep(20000);
    round_threads = poll_peak;
    for (guint s = 0; snapped && s < args->snapshots; s++)
        snapped = collect_snapshot(conn, &snaps[s]);
    if (args->snapshots > 1) {
        qsort(snaps + 1, args->snapshots - 1, sizeof(CollectTime), cmp_time);
        later = snaps[1 + (args->snapshots - 1) / 2];
    }
    poll_stop = TRUE;
    g_thread_join(poller);
    qsort(rounds, args->rounds, sizeof(CollectTime), cmp_time);
    qsort(daemon_rounds, args->rounds, sizeof(CollectTime), cmp_time);
    printf("| %u | %u | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %u | %u | %.0f | %.0f | %u/%u |\n",
           hosts, hosts * args->guests, open_t.wall, open_t.cpu,
           rounds[args->rounds / 2].wall, rounds[args->rounds / 2].cpu,
           rounds[args->rounds - 1].wall, rounds[args->rounds - 1].cpu,
           daemon_rounds[args->rounds / 2].wall, daemon_rounds[args->rounds / 2].cpu,
           snaps[0].wall, snaps[0].cpu, later.wall, later.cpu,
           open_threads - 1, round_threads - 1, rss_open / 1024.0,
           status_field("VmHWM:") / 1024.0, up, hosts);
    fflush(stdout);
    vb_driver_libvirt.close(conn);
    return snapped ? 0 : 1;
}

/* ------------------------------------------------------------ main */

static gboolean
parse_sizes(const char *text, GArray *sizes)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);

    for (guint i = 0; parts[i]; i++) {
        guint64 n = 0;
        guint hosts;

        if (!g_ascii_string_to_unsigned(parts[i], 10, 1, 99999, &n, NULL))
            return FALSE;
        hosts = (guint) n;
        g_array_append_val(sizes, hosts);
    }
    return sizes->len > 0;
}

int
main(int argc, char **argv)
{
    g_autofree char *sizes_text = NULL, *keep = NULL, *model = vb_bench_cpu_model(),
                     *load = vb_bench_load_average(), *load_end = NULL;
    CollectArgs args = { 0 };
    gint guests = 20, rounds = 3, workers = 0, timeout = 10, snapshots = 3;
    GOptionEntry entries[] = {
        { "sizes", 0, 0, G_OPTION_ARG_STRING, &sizes_text, "host counts, comma-separated", "N,..." },
        { "guests", 0, 0, G_OPTION_ARG_INT, &guests, "running guests per host (20)", "N" },
        { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "sample rounds timed (3)", "N" },
        { "workers", 0, 0, G_OPTION_ARG_INT, &workers, "max_parallel_hosts (default: the build's)", "N" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "connect_timeout in seconds (10)", "S" },
        { "snapshots", 0, 0, G_OPTION_ARG_INT, &snapshots,
          "snapshots timed on the same connections, the first and the later ones (3)", "N" },
        { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep, "write the host files here and keep them", "DIR" },
        { NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new("- sampling round benchmark");
    g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GError) error = NULL;
    int failed = 0;

    g_option_context_add_main_entries(context, entries, NULL);
    /* A GOption string's default must not be allocated: a given --sizes
     * replaces the pointer without freeing it (LeakSanitizer, bench/smoke.sh). */
    if (!g_option_context_parse(context, &argc, &argv, &error) ||
        !parse_sizes(sizes_text ? sizes_text : "1000,10000", sizes) ||
        guests < 0 || guests > 99 || rounds < 1 || workers < 0 || timeout < 1 ||
        snapshots < 1 || snapshots > 1000) {
        fprintf(stderr, "vb-collect: %s\n", error ? error->message : "bad --sizes, --guests, "
                                                                    "--rounds, --workers, --timeout or --snapshots");
        return 2;
    }
    args = (CollectArgs) { .guests = (guint) guests, .rounds = (guint) rounds,
                           .workers = (guint) workers, .timeout = (guint) timeout,
                           .snapshots = (guint) snapshots };
    printf("#### virt-balancer collection benchmark (libvirt driver, test:/// hosts)\n\n");
    printf("CPU: %s, %ld online; load average %s; %u guests per host; %u rounds; %u snapshots; "
           "workers: ", model, sysconf(_SC_NPROCESSORS_ONLN), load, args.guests, args.rounds,
           args.snapshots);
#ifdef VB_CONFIG_MAX_PARALLEL_HOSTS_DEFAULT
    printf("%u (max_parallel_hosts)\n\n", args.workers ? args.workers
                                                      : VB_CONFIG_MAX_PARALLEL_HOSTS_DEFAULT);
#else
    printf("one thread per host (this build has no max_parallel_hosts)\n\n");
#endif
    printf("| hosts | guests | open s (wall / CPU) | round s, median | round s, slowest | "
           "round + history s, median | first snapshot s | later snapshots s, median | "
           "peak threads, open | peak threads, rounds | "
           "RSS after open MiB | peak RSS MiB | hosts up |\n");
    printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    fflush(stdout);
    for (guint i = 0; i < sizes->len; i++) {
        guint hosts = g_array_index(sizes, guint, i);
        g_autofree char *dir = keep ? g_strdup(keep) : g_dir_make_tmp("vb-collect-XXXXXX", NULL);
        int status = 0;
        pid_t pid;

        if (!dir || g_mkdir_with_parents(dir, 0700) != 0) {
            fprintf(stderr, "vb-collect: cannot make a folder for the host files\n");
            return 1;
        }
        for (guint h = 0; h < hosts; h++)
            write_host(dir, h, args.guests);
        pid = fork();
        if (pid == 0)
            _exit(collect_one(dir, hosts, &args));
        waitpid(pid, &status, 0);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        for (guint h = 0; !keep && h < hosts; h++) {
            g_autofree char *path = g_strdup_printf("%s/h%05u.xml", dir, h);

            g_unlink(path);
        }
        if (!keep)
            g_rmdir(dir);
    }
    load_end = vb_bench_load_average();
    printf("\nLoad average at the end: %s.\n", load_end);
    printf("\nTimes are wall / CPU seconds. round: one sample of every host by the driver; "
           "round + history: the daemon's sample (vb_collector_sample: the round, then written "
           "to a history database file); CPU: user + system of every thread; peak threads: the "
           "process's (the 5 ms poller not counted), during open and during the rounds; RSS "
           "after open holds the in-process test hosts; first snapshot: the first on the "
           "connections, later snapshots: the median of the others on the same connections.\n");
    return failed;
}
