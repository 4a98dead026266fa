/*
 * cmd-status.c: `status`: every host with its state (and why it is down),
 * its latest and window-averaged load (CPU, memory, disk) and its guests.
 *
 * The pool is sampled now (twice, a short gap apart, when the history holds
 * no earlier sample to take CPU deltas against), so the latest figures are
 * fresh; the averages come from the history over the configured window
 * (docs/collectors.md). With --config the history is the config's database,
 * shared with the daemon; with --inventory (or the demo pool) the sim driver
 * samples the file into an in-memory database, so the averages equal the
 * file's usage. Text for people, JSON (documented in docs/collectors.md) for
 * scripts.
 *
 * Hosts in the journal's maintenance set (--database, else the history's
 * database) show as `maintenance` with the recorded reason, even when they
 * cannot be read. A host that cannot be read and is not in maintenance makes
 * the view partial: it is listed, and the exit code is 5 (cli/partial.c).
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "cli/cli.h"
#include "collectors/collectors.h"
#include "scheduler/scheduler.h"

VbCollectSession *
vb_cli_collect_session(VbCliContext *ctx, int *ret_exit)
{
    g_autoptr(GError) error = NULL;
    VbConfig *config = NULL;
    VbInventory *inv = NULL;
    VbCollectSession *session;

    if (!ctx->inventory_path) {
        config = vb_cli_context_get_config(ctx, &error);
        if (!config && error) {
            *ret_exit = vb_cli_report_error(error);
            return NULL;
        }
    }
    if (!config || g_strcmp0(config->driver, "sim") == 0) {
        /* A file (--inventory, the config's sim inventory, the demo pool):
         * the context loads it; the session samples a copy. */
        if (!(inv = vb_cli_context_get_inventory(ctx, &error))) {
            *ret_exit = vb_cli_report_error(error);
            return NULL;
        }
        session = vb_collect_session_open(config, vb_inventory_copy(inv), &error);
    } else {
        ctx->source = VB_CLI_SOURCE_CONFIG;
        g_free(ctx->source_name);
        ctx->source_name = g_strdup(config->filename);
        session = vb_collect_session_open(config, NULL, &error);
    }
    if (!session)
        *ret_exit = vb_cli_report_error(error);
    return session;
}

/* ------------------------------------------------------------------ text */

static char *
percent(double used, double total)
{
    return total > 0.0 ? g_strdup_printf("%.0f%%", 100.0 * used / total) : g_strdup("-");
}

static char *
cpu_text(double cpu)
{
    return cpu >= 0.0 ? g_strdup_printf("%.0f%%", 100.0 * cpu) : g_strdup("-");
}

static const char *
host_state(const VbInventory *inv, const VbHostHistory *h)
{
    const VbHost *host = vb_inventory_get_host(inv, h->host);

    if (host && host->state == VB_HOST_STATE_MAINTENANCE)
        return vb_host_state_to_string(VB_HOST_STATE_MAINTENANCE);
    if (!h->up)
        return vb_host_state_to_string(VB_HOST_STATE_DOWN);
    return vb_host_state_to_string(host ? host->state : VB_HOST_STATE_UP);
}

static const char *
host_pool(const VbInventory *inv, const VbHostHistory *h)
{
    const VbHost *host = vb_inventory_get_host(inv, h->host);

    return host ? vb_inventory_pool(inv, host->pool)->name : "-";
}

/* Why @h is down or in maintenance, or NULL (transfer none). */
static const char *
host_reason(const VbInventory *inv, const VbHostHistory *h)
{
    const VbHost *host = vb_inventory_get_host(inv, h->host);

    if (host && host->state == VB_HOST_STATE_MAINTENANCE)
        return host->state_reason;
    return !h->up ? h->reason : (host ? host->state_reason : NULL);
}

/* Hosts that could not be read and are not in maintenance. */
static guint
count_unread(const VbInventory *inv, const GPtrArray *hosts)
{
    guint n = 0;

    for (guint i = 0; i < hosts->len; i++)
        n += g_str_equal(host_state(inv, g_ptr_array_index(hosts, i)), "down");
    return n;
}

static void
add_host_row(VbCliTable *table, const VbInventory *inv, const VbHostHistory *h)
{
    g_autofree char *guests = g_strdup_printf("%u/%u", h->n_running, h->n_vms);
    g_autofree char *cpu_now = cpu_text(h->up ? h->latest.cpu : -1.0);
    g_autofree char *cpu_avg = cpu_text(h->n_intervals ? h->average.cpu : -1.0);
    g_autofree char *mem_now = h->up ? percent(h->latest.memory_used_mib,
                                               h->latest.memory_total_mib) : g_strdup("-");
    g_autofree char *mem_avg = h->n_samples ? percent(h->average.memory_used_mib,
                                                      h->average.memory_total_mib)
                                            : g_strdup("-");
    g_autofree char *disk_avg = h->n_samples ? percent(h->average.storage_used_gib,
                                                       h->average.storage_total_gib)
                                             : g_strdup("-");
    g_autofree char *samples = g_strdup_printf("%u", h->n_samples);
    const char *cells[] = { h->host, host_pool(inv, h), host_state(inv, h), guests, cpu_now,
                            cpu_avg, mem_now, mem_avg, disk_avg, samples };

    vb_cli_table_add(table, cells);
}

static void
print_text(FILE *out, const char *source, const VbInventory *inv, const GPtrArray *hosts,
           const VbWindow *w)
{
    g_autoptr(VbCliTable) table = vb_cli_table_new(10);
    g_autofree char *window = vb_window_describe(w);
    const char *head[] = { "HOST", "POOL", "STATE", "GUESTS", "CPU", "CPU AVG", "MEM",
                           "MEM AVG", "DISK AVG", "SAMPLES" };

    fprintf(out, "Pool:    %s (%u hosts, %u guests)\nLoad:    averages over the %s\n\n",
            source, inv->hosts->len, inv->vms->len, window);
    vb_cli_table_add(table, head);
    for (guint c = 3; c < 10; c++)
        vb_cli_table_align_right(table, c);
    for (guint i = 0; i < hosts->len; i++)
        add_host_row(table, inv, g_ptr_array_index(hosts, i));
    vb_cli_table_print(table, out, "");
    for (guint i = 0; i < hosts->len; i++) {
        const VbHostHistory *h = g_ptr_array_index(hosts, i);
        const char *why = host_reason(inv, h);

        /* Drivers' reasons start with the host's name; do not say it twice. */
        if (why && g_str_has_prefix(why, h->host) && g_str_has_prefix(why + strlen(h->host), ": "))
            why += strlen(h->host) + 2;
        if (why)
            fprintf(out, "  %s (%s): %s\n", h->host, host_state(inv, h), why);
    }
    if (count_unread(inv, hosts) > 0)
        fprintf(out, "\nPartial: %u of %u hosts could not be read (down above); their load "
                     "and guests are unknown\n", count_unread(inv, hosts), hosts->len);
}

/* ------------------------------------------------------------------ JSON */

static void
add_time(JsonBuilder *b, const char *name, gint64 time_us)
{
    g_autoptr(GDateTime) dt = time_us ? g_date_time_new_from_unix_utc(time_us / G_USEC_PER_SEC)
                                      : NULL;
    g_autofree char *text = dt ? g_date_time_format_iso8601(dt) : NULL;

    vb_cli_json_add_string(b, name, text);
}

static void
add_load(JsonBuilder *b, const char *name, const VbLoad *l, gboolean known, gboolean cpu_known)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    vb_cli_json_add_number(b, "cpu", known && cpu_known && l->cpu >= 0.0, l->cpu);
    vb_cli_json_add_number(b, "memory_used_mib", known, l->memory_used_mib);
    vb_cli_json_add_number(b, "memory_total_mib", known, l->memory_total_mib);
    vb_cli_json_add_number(b, "disk_used_gib", known, l->storage_used_gib);
    vb_cli_json_add_number(b, "disk_total_gib", known, l->storage_total_gib);
    json_builder_end_object(b);
}

static void
add_host_json(JsonBuilder *b, const VbInventory *inv, const VbHostHistory *h)
{
    const char *why = host_reason(inv, h);

    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "name", h->host);
    vb_cli_json_add_string(b, "pool", host_pool(inv, h));
    vb_cli_json_add_string(b, "state", host_state(inv, h));
    vb_cli_json_add_string(b, "reason", why);
    add_time(b, "sampled_at", h->time_us);
    vb_cli_json_add_int(b, "guests", h->n_vms);
    vb_cli_json_add_int(b, "running", h->n_running);
    add_load(b, "latest", &h->latest, h->up, TRUE);
    add_load(b, "average", &h->average, h->n_samples > 0, h->n_intervals > 0);
    vb_cli_json_add_int(b, "samples", h->n_samples);
    vb_cli_json_add_int(b, "intervals", h->n_intervals);
    json_builder_end_object(b);
}

static char *
render_json(const char *source, const VbInventory *inv, const GPtrArray *hosts,
            const VbWindow *w)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "source", source);
    json_builder_set_member_name(b, "window");
    json_builder_begin_object(b);
    vb_cli_json_add_int(b, "seconds", w->window_seconds);
    vb_cli_json_add_int(b, "samples", w->n_samples);
    json_builder_set_member_name(b, "span_seconds");
    json_builder_add_double_value(b, (double) (w->end_us - w->start_us) / G_USEC_PER_SEC);
    add_time(b, "start", w->start_us);
    add_time(b, "end", w->end_us);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "hosts");
    json_builder_begin_array(b);
    for (guint i = 0; i < hosts->len; i++)
        add_host_json(b, inv, g_ptr_array_index(hosts, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "unreachable");
    json_builder_begin_array(b);
    for (guint i = 0; i < hosts->len; i++) {
        const VbHostHistory *h = g_ptr_array_index(hosts, i);
        const char *why;

        if (!g_str_equal(host_state(inv, h), "down"))
            continue;
        json_builder_begin_object(b);
        vb_cli_json_add_string(b, "name", h->host);
        vb_cli_json_add_string(b, "pool", host_pool(inv, h));
        why = host_reason(inv, h);
        /* Drivers' reasons start with the host's name; do not say it twice. */
        if (why && g_str_has_prefix(why, h->host) && g_str_has_prefix(why + strlen(h->host), ": "))
            why += strlen(h->host) + 2;
        vb_cli_json_add_string(b, "reason", why);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    text = json_generator_to_data(gen, NULL);
    return g_strconcat(text, "\n", NULL);
}

/* --------------------------------------------------------------- command */

/* @hosts (VbHostHistory *, by name) re-ordered as the snapshot lists its
 * hosts (pool by pool), hosts the snapshot does not know last. */
static GPtrArray *
order_like_inventory(GPtrArray *hosts, const VbInventory *inv)
{
    GPtrArray *ordered = g_ptr_array_new_with_free_func((GDestroyNotify) vb_host_history_free);
    g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < hosts->len; i++) {
        VbHostHistory *h = g_ptr_array_index(hosts, i);

        g_hash_table_insert(by_name, h->host, h);
    }
    for (guint p = 0; p < inv->pools->len; p++) {
        const VbPool *pool = vb_inventory_pool(inv, p);

        for (guint i = 0; i < pool->hosts->len; i++) {
            const VbHost *host = vb_inventory_host(inv, g_array_index(pool->hosts, guint, i));
            VbHostHistory *h = g_hash_table_lookup(by_name, host->name);

            if (h) {
                g_hash_table_remove(by_name, host->name);
                g_ptr_array_add(ordered, h);
            }
        }
    }
    for (guint i = 0; i < hosts->len; i++) {
        VbHostHistory *h = g_ptr_array_index(hosts, i);

        if (g_hash_table_contains(by_name, h->host))
            g_ptr_array_add(ordered, h);
    }
    /* The entries moved to @ordered. */
    g_ptr_array_set_free_func(hosts, NULL);
    g_ptr_array_unref(hosts);
    return ordered;
}

int
vb_cli_cmd_status(VbCliContext *ctx, int argc, char **argv)
{
    const GOptionEntry entries[] = {
        VB_CLI_OPTION_DATABASE(ctx->database_path),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(VbCollectSession) session = NULL;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(GPtrArray) hosts = NULL;
    g_autoptr(GError) error = NULL;
    VbWindow w = { 0 };
    int rc = VB_EXIT_OK;

    if (!vb_cli_parse_options(ctx, &argc, &argv, "status",
                              "Samples every host now and shows its state (and why it is "
                              "down), its latest\nload and its load averaged over the "
                              "configured window, and its guests.\nHosts in maintenance show "
                              "the recorded reason. When a host cannot be read\n(and is not "
                              "in maintenance) the exit code is 5.",
                              entries, &rc))
        return rc;
    if (argc > 1)
        return vb_cli_usage_error("status: unexpected argument '%s'", argv[1]);
    if (!(session = vb_cli_collect_session(ctx, &rc)))
        return rc;
    if (!vb_collector_refresh(session->collector, &error) ||
        !(inv = session->ops->snapshot(session->conn, &error)) ||
        !vb_cli_context_apply_journal(ctx, inv, session->store, &error) ||
        !(hosts = vb_history_hosts(session->store, 0, session->window_seconds, &w, &error)))
        return vb_cli_report_error(error);
    hosts = order_like_inventory(g_steal_pointer(&hosts), inv);
    if (ctx->format == VB_CLI_FORMAT_JSON) {
        g_autofree char *json = render_json(ctx->source_name, inv, hosts, &w);

        fputs(json, ctx->out);
    } else {
        print_text(ctx->out, ctx->source_name, inv, hosts, &w);
    }
    return count_unread(inv, hosts) > 0 ? VB_EXIT_PARTIAL : VB_EXIT_OK;
}
