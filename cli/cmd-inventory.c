/*
 * cmd-inventory.c: `inventory --format yaml`: the live pool written in the
 * inventory format the sim driver reads (docs/inventory.md), with measured
 * load averaged over the configured window, so a real pool can be replayed
 * offline with `--inventory FILE`.
 *
 * The snapshot is the collector's (collectors/collector.c): topology and
 * state from the driver, load from the history, sampled first when the
 * history has nothing recent. A comment line at the top says where it came
 * from and which window the load covers; the rest is vb_inventory_to_yaml().
 * YAML is the only format: `--format yaml` is accepted (and is the
 * default), text and JSON are refused.
 *
 * Hosts in the journal's maintenance set are written `maintenance` with the
 * recorded reason, so a replay plans what the live pool would. Hosts that
 * could not be read are written `down` with the reason, named in a comment
 * and on stderr, and the exit code is 5 (cli/partial.c).
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"
#include "collectors/collectors.h"

/* Removes "--format yaml" / "--format=yaml" from argv: the shared option
 * parser knows text and JSON only (and JSON is refused below). */
static void
strip_yaml_format(int *argc, char **argv)
{
    int out = 0;

    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--format=yaml") == 0)
            continue;
        if (strcmp(argv[i], "--format") == 0 && i + 1 < *argc &&
            strcmp(argv[i + 1], "yaml") == 0) {
            i++;
            continue;
        }
        argv[out++] = argv[i];
    }
    *argc = out;
}

int
vb_cli_cmd_inventory(VbCliContext *ctx, int argc, char **argv)
{
    const GOptionEntry entries[] = {
        VB_CLI_OPTION_DATABASE(ctx->database_path),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(VbCollectSession) session = NULL;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *yaml = NULL;
    g_autofree char *window = NULL;
    VbWindow w = { 0 };
    int rc = VB_EXIT_OK;

    strip_yaml_format(&argc, argv);
    if (!vb_cli_parse_options(ctx, &argc, &argv, "inventory [--format yaml]",
                              "Writes the pool in the inventory format the sim driver reads "
                              "(docs/inventory.md),\nwith measured load averaged over the "
                              "configured window, so that a real pool\ncan be replayed with "
                              "--inventory FILE. The only format is yaml.\nHosts in "
                              "maintenance are written as such; when a host cannot be read\n"
                              "the exit code is 5.",
                              entries, &rc))
        return rc;
    if (argc > 1)
        return vb_cli_usage_error("inventory: unexpected argument '%s'", argv[1]);
    if (ctx->format != VB_CLI_FORMAT_TEXT)
        return vb_cli_usage_error("inventory: the inventory is written as YAML only "
                                  "(--format yaml)");
    if (!(session = vb_cli_collect_session(ctx, &rc)))
        return rc;
    inv = vb_collector_snapshot(session->collector, &w, &error);
    if (!inv || !vb_cli_context_apply_journal(ctx, inv, session->store, &error))
        return vb_cli_report_error(error);
    yaml = vb_inventory_to_yaml(inv);
    window = vb_window_describe(&w);
    fprintf(ctx->out, "# virt-balancer inventory of %s\n# load: averages over the %s\n",
            ctx->source_name, window);
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);

        if (host->state != VB_HOST_STATE_DOWN)
            continue;
        fprintf(ctx->out, "# not read: %s (state down below; its guests are unknown)\n",
                host->name);
        vb_cli_note(VB_LOG_WARNING, "%s could not be read: %s", host->name,
                    host->state_reason ? host->state_reason : "down");
    }
    fputs(yaml, ctx->out);
    return vb_cli_partial_exit_code(inv, VB_EXIT_OK);
}
