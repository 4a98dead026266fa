/*
 * main.c: the `virt-balancer` entry point. Parses the global options (those
 * before the command word), then hands the rest of the command line to the
 * command found in the table of cli/commands.c.
 *
 * Parsing stops at the first word that is not an option (strict POSIX), so a
 * command's own options never reach the global parser. The process exit code
 * is what the command returns (a VbExitCode); main adds only the codes for
 * global usage errors.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static gboolean
parse_global_options(VbCliContext *ctx, int *argc, char ***argv, gboolean *ret_help,
                     gboolean *ret_version, GError **error)
{
    g_autofree char *format = NULL;
    gboolean help = FALSE, version = FALSE, verbose = FALSE, quiet = FALSE;
    const GOptionEntry entries[] = {
        { "inventory", 0, 0, G_OPTION_ARG_FILENAME, &ctx->inventory_path, NULL, NULL },
        { "config", 0, 0, G_OPTION_ARG_FILENAME, &ctx->config_path, NULL, NULL },
        { "policy", 0, 0, G_OPTION_ARG_FILENAME, &ctx->policy_path, NULL, NULL },
        { "format", 0, 0, G_OPTION_ARG_STRING, &format, NULL, NULL },
        { "verbose", 0, 0, G_OPTION_ARG_NONE, &verbose, NULL, NULL },
        { "quiet", 0, 0, G_OPTION_ARG_NONE, &quiet, NULL, NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &version, NULL, NULL },
        { "help", 'h', 0, G_OPTION_ARG_NONE, &help, NULL, NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) octx = g_option_context_new(NULL);
    g_autoptr(GError) local = NULL;

    g_option_context_set_help_enabled(octx, FALSE);
    g_option_context_set_strict_posix(octx, TRUE);
    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, argc, argv, &local)) {
        /* GOption's own domain: say it is a usage error, keep its words. */
        g_set_error(error, VB_ERROR, VB_ERROR_USAGE, "%s", local->message);
        return FALSE;
    }
    if (ctx->inventory_path && ctx->config_path) {
        g_set_error(error, VB_ERROR, VB_ERROR_USAGE,
                    "--inventory and --config cannot be used together");
        return FALSE;
    }
    if (format && !vb_cli_context_set_format(ctx, format, error))
        return FALSE;
    if (!vb_cli_context_set_verbosity(ctx, verbose, quiet, error))
        return FALSE;
    *ret_help = help;
    *ret_version = version;
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_autoptr(VbCliContext) ctx = vb_cli_context_new();
    g_autoptr(GError) error = NULL;
    const VbCliCommand *command;
    gboolean help = FALSE, version = FALSE;

    /* A peer that closes a libvirt socket (a host dying mid-migration) must
     * give an error from the write, not kill the process: virsh does the same. */
    signal(SIGPIPE, SIG_IGN);
    vb_cli_log_init();
    if (!parse_global_options(ctx, &argc, &argv, &help, &version, &error)) {
        vb_cli_report_error(error);
        fprintf(stderr, "Run 'virt-balancer --help' for usage.\n");
        return VB_EXIT_USAGE;
    }
    if (version) {
        fprintf(ctx->out, "virt-balancer %s\n", PACKAGE_VERSION);
        return VB_EXIT_OK;
    }
    if (help) {
        g_autofree char *text = vb_cli_global_help();

        fputs(text, ctx->out);
        return VB_EXIT_OK;
    }
    if (argc < 2)
        return vb_cli_usage_error("no command given; run 'virt-balancer --help' for the list");
    if (strcmp(argv[1], VB_CLI_COMPLETE_COMMAND) == 0)
        return vb_cli_cmd_complete(ctx, argc - 1, argv + 1);
    command = vb_cli_command_find(argv[1]);
    if (!command)
        return vb_cli_usage_error("unknown command '%s'; run 'virt-balancer --help' for the list",
                                  argv[1]);
    return command->run(ctx, argc - 1, argv + 1);
}
