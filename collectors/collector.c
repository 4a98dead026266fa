/*
 * collector.c: sampling a driver into the history, and snapshots whose load
 * is the window average.
 *
 * A VbCollector borrows a driver connection, its ops and a store. Sampling
 * asks the driver for one VbSampleSet (the driver samples every host
 * concurrently), records it, rolls it up and prunes each level past its
 * retention. A snapshot asks
 * the driver for the pool's topology and replaces its measured load with
 * the averages over the window, so that planning never acts on one noisy
 * sample. When the window holds no CPU interval yet (first run), or the last
 * sample is older than the sampling interval (no daemon keeps the history
 * fresh), the collector samples first: once, and
 * when that still gives no interval (no earlier sample to take a delta
 * against), once more a bootstrap gap later, on the driver's clock.
 *
 * Invariant: the inventory returned is the driver's, topology and state
 * untouched; only the measured figures change, and only where the window has
 * them.
 */
#include "config.h"

#include <math.h>

#include "collectors/collectors.h"

#define VB_COLLECTOR_DEFAULT_GAP_S 3.0

struct _VbCollector {
    VbConn *conn;              /* borrowed */
    const VbDriverOps *ops;    /* borrowed */
    VbStore *store;            /* borrowed */
    guint window_seconds;      /* averages over this */
    VbHistoryRetention keep;   /* how long each level of the history stays */
    guint fresh_seconds;       /* a newest sample older than this is stale */
    double bootstrap_gap_s;    /* between the two first samples */
};

VbCollector *
vb_collector_new(VbConn *conn, const VbDriverOps *ops, VbStore *store, const VbConfig *config,
                 GError **error)
{
    g_autoptr(VbCollector) c = g_new0(VbCollector, 1);

    g_return_val_if_fail(conn && ops && store && config, NULL);
    c->conn = conn;
    c->ops = ops;
    c->store = store;
    /* Zero means "not set" (a hand-built config): the defaults apply. */
    c->window_seconds = config->window_seconds ? config->window_seconds
                                               : VB_COLLECT_DEFAULT_WINDOW_S;
    /* Retention shorter than the window would delete what planning needs. */
    vb_history_retention_init(&c->keep, c->window_seconds,
                              MAX(config->retention_seconds ? config->retention_seconds
                                                            : VB_COLLECT_DEFAULT_RETENTION_S,
                                  c->window_seconds));
    /* With a daemon sampling every interval the history is always fresh;
     * without one, a snapshot samples before using the window. */
    c->fresh_seconds = config->sample_interval_seconds
                           ? MIN(config->sample_interval_seconds, c->window_seconds)
                           : c->window_seconds;
    c->bootstrap_gap_s = VB_COLLECTOR_DEFAULT_GAP_S;
    if (!vb_history_init(store, error))
        return NULL;
    return g_steal_pointer(&c);
}

void
vb_collector_free(VbCollector *collector)
{
    g_free(collector);
}

void
vb_collector_set_bootstrap_gap(VbCollector *collector, double seconds)
{
    collector->bootstrap_gap_s = MAX(seconds, 0.0);
}

gboolean
vb_collector_sample(VbCollector *collector, GError **error)
{
    g_autoptr(VbSampleSet) set = collector->ops->sample(collector->conn, error);
    VbHistoryPruned pruned;

    if (!set ||
        !vb_history_record_and_prune(collector->store, set, &collector->keep, &pruned, error))
        return FALSE;
    g_debug("sampled %u hosts, pruned %u raw samples, %u 5-minute and %u hourly rows",
            set->hosts->len, pruned.samples, pruned.rows[VB_HISTORY_FIVE_MIN],
            pruned.rows[VB_HISTORY_HOUR]);
    return TRUE;
}

/* Sets @ret_usable when some host has a CPU interval in the window ending at
 * the newest sample and that sample is fresh (not older than the sampling
 * interval, or the window when there is none). FALSE only on a database
 * error. */
static gboolean
history_usable(VbCollector *c, gboolean *ret_usable, GError **error)
{
    g_autoptr(GPtrArray) hosts = NULL;
    VbWindow w;
    gint64 age_us;

    *ret_usable = FALSE;
    hosts = vb_history_hosts(c->store, 0, c->window_seconds, &w, error);
    if (!hosts)
        return FALSE;
    age_us = g_get_real_time() - w.end_us;
    /* A sim driver's clock runs ahead of the wall clock: only a sample from
     * the past (not one from the future) can be stale. */
    if (w.n_samples == 0 || age_us > (gint64) c->fresh_seconds * G_USEC_PER_SEC)
        return TRUE;
    for (guint i = 0; i < hosts->len; i++)
        if (((VbHostHistory *) g_ptr_array_index(hosts, i))->n_intervals > 0)
            *ret_usable = TRUE;
    return TRUE;
}

gboolean
vb_collector_refresh(VbCollector *collector, GError **error)
{
    gboolean usable;

    if (!vb_collector_sample(collector, error) ||
        !history_usable(collector, &usable, error))
        return FALSE;
    if (usable)
        return TRUE;
    g_debug("no usage history yet: sampling again in %.1f s", collector->bootstrap_gap_s);
    collector->ops->sleep(collector->conn, collector->bootstrap_gap_s);
    return vb_collector_sample(collector, error);
}

static gboolean
ensure_history(VbCollector *c, GError **error)
{
    gboolean usable;

    if (!history_usable(c, &usable, error))
        return FALSE;
    return usable || vb_collector_refresh(c, error);
}

/* Counters in whole nanoseconds leave noise in the last digits (0.1499999999);
 * a millionth of a core is far below what a measurement means. */
static double
round_usage(double usage)
{
    return round(usage * 1e6) / 1e6;
}

static void
apply_host(VbHost *host, const VbHostHistory *h)
{
    if (h->n_intervals > 0 && h->average.cpu >= 0.0)
        host->cpu_usage = round_usage(h->average.cpu);
    if (h->cpu_stddev >= 0.0)
        host->cpu_stddev = round_usage(h->cpu_stddev);
    if (h->n_samples > 0) {
        host->memory_used_mib = (guint64) (h->average.memory_used_mib + 0.5);
        if (h->average.storage_total_gib > 0.0)
            host->storage_free_gib = MAX(0.0, host->storage_total_gib -
                                                  h->average.storage_used_gib);
    }
}

static gboolean
apply_averages(VbCollector *c, VbInventory *inv, VbWindow *ret_window, GError **error)
{
    g_autoptr(GPtrArray) hosts = vb_history_hosts(c->store, 0, c->window_seconds, ret_window,
                                                  error);
    g_autoptr(GPtrArray) vms = NULL;

    if (!hosts)
        return FALSE;
    vms = vb_history_vms(c->store, 0, c->window_seconds, error);
    if (!vms)
        return FALSE;
    for (guint i = 0; i < hosts->len; i++) {
        const VbHostHistory *h = g_ptr_array_index(hosts, i);
        VbHost *host = vb_inventory_get_host(inv, h->host);

        if (host && host->state != VB_HOST_STATE_DOWN)
            apply_host(host, h);
    }
    for (guint i = 0; i < vms->len; i++) {
        const VbVmHistory *h = g_ptr_array_index(vms, i);
        VbVm *vm = vb_inventory_get_vm(inv, h->vm);

        if (vm && h->n_intervals > 0 && h->cpu >= 0.0)
            vm->cpu_usage = round_usage(h->cpu);
    }
    return TRUE;
}

VbInventory *
vb_collector_snapshot(VbCollector *collector, VbWindow *ret_window, GError **error)
{
    g_autoptr(VbInventory) inv = NULL;

    if (!ensure_history(collector, error))
        return NULL;
    inv = collector->ops->snapshot(collector->conn, error);
    if (!inv || !apply_averages(collector, inv, ret_window, error))
        return NULL;
    return g_steal_pointer(&inv);
}

VbInventory *
vb_collect_snapshot(VbConn *conn, const VbDriverOps *ops, VbStore *store,
                    const VbConfig *config, VbWindow *ret_window, GError **error)
{
    g_autoptr(VbCollector) collector = vb_collector_new(conn, ops, store, config, error);

    if (!collector)
        return NULL;
    return vb_collector_snapshot(collector, ret_window, error);
}

/* ------------------------------------------------------ for the command line */

VbStore *
vb_store_open_for_config(const VbConfig *config, GError **error)
{
    g_autoptr(VbStore) store = vb_store_open(config->database ? config->database : ":memory:",
                                             error);

    if (!store || !vb_history_init(store, error))
        return NULL;
    return g_steal_pointer(&store);
}

VbCollector *
vb_collector_new_for_config(VbConn *conn, const VbDriverOps *ops, VbStore *store,
                            const VbConfig *config, GError **error)
{
    VbCollector *collector = vb_collector_new(conn, ops, store, config, error);
    const char *gap = g_getenv(VB_COLLECTOR_GAP_ENV);

    if (collector && gap && *gap) {
        char *end = NULL;
        double seconds = g_ascii_strtod(gap, &end);

        /* A malformed value is ignored: the default gap is always safe. */
        if (end && *end == '\0' && seconds >= 0.0 && seconds <= 3600.0)
            vb_collector_set_bootstrap_gap(collector, seconds);
    }
    return collector;
}

VbInventory *
vb_collect_snapshot_for_config(VbConn *conn, const VbDriverOps *ops, const VbConfig *config,
                               VbWindow *ret_window, GError **error)
{
    g_autoptr(VbStore) store = vb_store_open_for_config(config, error);
    g_autoptr(VbCollector) collector = NULL;

    if (!store)
        return NULL;
    collector = vb_collector_new_for_config(conn, ops, store, config, error);
    if (!collector)
        return NULL;
    return vb_collector_snapshot(collector, ret_window, error);
}
