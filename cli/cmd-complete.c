/*
 * cmd-complete.c: `virt-balancer __complete hosts`, the hidden helper of the
 * bash completion (contrib/virt-balancer.bash-completion): the names of the
 * hosts of the pool the global options select, one per line, in the pool's
 * order.
 *
 * It runs on every TAB, so it must be cheap and quiet: it reads files only
 * (the --inventory file; else the config's host list, or for a sim config
 * the inventory it names; else the built-in demo pool), never connects to a
 * host, never opens the database, and prints nothing on stderr (a broken
 * file gives exit 3 and no names). It is not in `--help` nor in the command
 * table: it is an interface of the completion script, not of people.
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"

static void
print_inventory_hosts(VbCliContext *ctx, const VbInventory *inv)
{
    for (guint i = 0; i < inv->hosts->len; i++)
        fprintf(ctx->out, "%s\n", vb_inventory_host(inv, i)->name);
}

static void
print_config_hosts(VbCliContext *ctx, const VbConfig *config)
{
    for (guint p = 0; config->pools && p < config->pools->len; p++) {
        const VbConfigPool *pool = g_ptr_array_index(config->pools, p);

        for (guint h = 0; h < pool->hosts->len; h++)
            fprintf(ctx->out, "%s\n", ((const VbConfigHost *) g_ptr_array_index(pool->hosts, h))->name);
    }
}

/* The inventory the global options name without asking a host: --inventory,
 * a sim config's inventory, or the demo pool. NULL without error when the
 * pool is a libvirt config's (@ret_config set, transfer none). */
static VbInventory *
complete_inventory(VbCliContext *ctx, VbConfig **ret_config, GError **error)
{
    g_autoptr(GBytes) demo = NULL;
    VbConfig *config;
    const char *data;
    gsize len = 0;

    *ret_config = NULL;
    if (ctx->inventory_path)
        return vb_inventory_load_file(ctx->inventory_path, error);
    config = vb_cli_context_get_config(ctx, error);
    if (config && config->inventory)
        return vb_inventory_load_file(config->inventory, error);
    if (config) {
        *ret_config = config;
        return NULL;
    }
    if (error && *error)
        return NULL;
    demo = vb_cli_demo_pool();
    data = g_bytes_get_data(demo, &len);
    return vb_inventory_load_data(data, len, VB_CLI_DEMO_NAME, error);
}

int
vb_cli_cmd_complete(VbCliContext *ctx, int argc, char **argv)
{
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(GError) error = NULL;
    VbConfig *config = NULL;

    if (argc != 2 || strcmp(argv[1], "hosts") != 0)
        return VB_EXIT_USAGE;
    inv = complete_inventory(ctx, &config, &error);
    if (error)
        return vb_cli_exit_code(error);
    if (inv)
        print_inventory_hosts(ctx, inv);
    else
        print_config_hosts(ctx, config);
    return VB_EXIT_OK;
}
