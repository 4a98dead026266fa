/*
 * context.c: what every command shares: the global options and the inputs
 * they name (config, inventory snapshot, policy), each loaded once, on the
 * first request, and cached in the context.
 *
 * Precedence (docs/cli.md):
 *   inventory  --inventory FILE; else the config's driver; else the demo pool
 *              built into the binary (said on stderr);
 *   config     --config FILE; else $VIRT_BALANCER_CONFIG or
 *              /etc/virt-balancer/virt-balancer.yaml when that file exists;
 *              never consulted when --inventory is given;
 *   policy     --policy FILE; else the config's policy; else the defaults;
 *   journal    the journal of --database; else the store the command has
 *              open; else the config's database when it exists: every
 *              command shows and honours the same maintenance set, and
 *              plans with each guest's recent migrations (cooldown, daily
 *              move cap) from it.
 * Invariant: a getter that failed once leaves nothing cached, and a cached
 * object is never replaced, so pointers handed out stay valid.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "scheduler/scheduler.h"

VbCliContext *
vb_cli_context_new(void)
{
    VbCliContext *ctx = g_new0(VbCliContext, 1);
    const char *now = g_getenv("VB_NOW");

    ctx->out = stdout;
    ctx->format = VB_CLI_FORMAT_TEXT;
    ctx->color = isatty(fileno(stdout)) && !g_getenv("NO_COLOR");
    /* VB_NOW pins "now" so cooldowns give the same plan on every run (tests). */
    ctx->now = now ? g_ascii_strtoll(now, NULL, 10) : g_get_real_time() / G_USEC_PER_SEC;
    return ctx;
}

void
vb_cli_context_free(VbCliContext *ctx)
{
    if (!ctx)
        return;
    g_free(ctx->inventory_path);
    g_free(ctx->config_path);
    g_free(ctx->policy_path);
    g_free(ctx->database_path);
    vb_config_free(ctx->config);
    vb_policy_free(ctx->policy);
    vb_inventory_free(ctx->inventory);
    g_free(ctx->source_name);
    g_free(ctx);
}

gboolean
vb_cli_context_set_format(VbCliContext *ctx, const char *name, GError **error)
{
    if (g_strcmp0(name, "text") == 0)
        ctx->format = VB_CLI_FORMAT_TEXT;
    else if (g_strcmp0(name, "json") == 0)
        ctx->format = VB_CLI_FORMAT_JSON;
    else if (g_strcmp0(name, "html") == 0)
        ctx->format = VB_CLI_FORMAT_HTML;
    else {
        g_set_error(error, VB_ERROR, VB_ERROR_USAGE,
                    "unknown format '%s'; use text, json or html", name);
        return FALSE;
    }
    return TRUE;
}

gboolean
vb_cli_context_set_verbosity(VbCliContext *ctx, gboolean verbose, gboolean quiet,
                             GError **error)
{
    if (verbose && quiet) {
        g_set_error(error, VB_ERROR, VB_ERROR_USAGE,
                    "--verbose and --quiet cannot be used together");
        return FALSE;
    }
    if (verbose || quiet) {
        ctx->verbosity = verbose ? 1 : -1;
        vb_cli_log_set_verbosity(ctx->verbosity);
    }
    return TRUE;
}

static const char *
default_config_path(void)
{
    const char *env = g_getenv(VB_CLI_CONFIG_ENV);

    return env && *env ? env : VB_CLI_DEFAULT_CONFIG;
}

VbConfig *
vb_cli_context_get_config(VbCliContext *ctx, GError **error)
{
    const char *path = ctx->config_path;

    if (ctx->config || ctx->config_tried)
        return ctx->config;
    if (!path) {
        path = default_config_path();
        if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
            ctx->config_tried = TRUE;
            return NULL;
        }
    }
    ctx->config = vb_config_load_file(path, error);
    if (ctx->config)
        ctx->config_tried = TRUE;
    return ctx->config;
}

static VbInventory *
load_demo(GError **error)
{
    g_autoptr(GBytes) demo = vb_cli_demo_pool();
    gsize len = 0;
    const char *data = g_bytes_get_data(demo, &len);

    vb_cli_note(VB_LOG_NOTICE, "no --inventory or --config given and %s does not exist; "
                "using the demo pool built into the program", default_config_path());
    return vb_inventory_load_data(data, len, VB_CLI_DEMO_NAME, error);
}

VbInventory *
vb_cli_context_get_inventory(VbCliContext *ctx, GError **error)
{
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(GError) local = NULL;
    VbConfig *config;

    if (ctx->inventory)
        return ctx->inventory;
    if (ctx->inventory_path) {
        inv = vb_inventory_load_file(ctx->inventory_path, error);
        ctx->source = VB_CLI_SOURCE_INVENTORY;
        ctx->source_name = g_strdup(ctx->inventory_path);
    } else if ((config = vb_cli_context_get_config(ctx, &local))) {
        inv = vb_cli_inventory_from_config(ctx, config, error);
        ctx->source = VB_CLI_SOURCE_CONFIG;
        ctx->source_name = g_strdup(config->filename);
    } else if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    } else {
        inv = load_demo(error);
        ctx->source = VB_CLI_SOURCE_DEMO;
        ctx->source_name = g_strdup(VB_CLI_DEMO_NAME);
    }
    if (!inv)
        g_clear_pointer(&ctx->source_name, g_free);
    ctx->inventory = g_steal_pointer(&inv);
    return ctx->inventory;
}

VbPolicy *
vb_cli_context_get_policy(VbCliContext *ctx, GError **error)
{
    g_autoptr(GError) local = NULL;
    VbConfig *config = NULL;

    if (ctx->policy)
        return ctx->policy;
    if (ctx->policy_path) {
        ctx->policy = vb_policy_load_file(ctx->policy_path, error);
        return ctx->policy;
    }
    if (!ctx->inventory_path) {
        config = vb_cli_context_get_config(ctx, &local);
        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
    }
    if (config && config->policy)
        ctx->policy = vb_policy_load_file(config->policy, error);
    else
        ctx->policy = vb_policy_new_default();
    return ctx->policy;
}

gboolean
vb_cli_context_apply_journal(VbCliContext *ctx, VbInventory *inv, VbStore *fallback,
                                 GError **error)
{
    g_autoptr(VbStore) own = NULL;
    g_autoptr(VbJournal) journal = NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GError) local = NULL;
    VbStore *store = fallback;

    if (ctx->database_path) {
        store = own = vb_store_open(ctx->database_path, error);
        if (!own)
            return FALSE;
    } else if (!fallback) {
        VbConfig *config = ctx->inventory_path ? NULL : vb_cli_context_get_config(ctx, &local);

        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        /* A database that does not exist has no host in maintenance; a
         * command that only reads does not create it. */
        if (!config || !config->database || !g_file_test(config->database, G_FILE_TEST_EXISTS))
            return TRUE;
        store = own = vb_store_open(config->database, error);
        if (!own)
            return FALSE;
    }
    journal = vb_journal_open(store, error);
    list = journal ? vb_journal_maintenance_list(journal, error) : NULL;
    if (!list || !vb_scheduler_apply_recent_moves(inv, journal, ctx->now, error))
        return FALSE;
    vb_scheduler_apply_maintenance_list(inv, list);
    return TRUE;
}
