/*
 * commands.c: the table of commands, the global help built from it, and the
 * `help` command.
 *
 * One line per command. To add one, write vb_cli_cmd_NAME() in its own
 * cli/cmd-NAME.c, declare it in cli/cli.h, and add its line below; the global
 * --help lists it from here, in table order.
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"

const VbCliCommand vb_cli_commands[] = {
    { "plan", "print a dry-run rebalancing plan for the pool", vb_cli_cmd_plan },
    { "evacuate", "move every guest off a host (--dry-run: plan only)", vb_cli_cmd_evacuate_run },
    { "rebalance", "plan and execute a rebalance (--dry-run: plan only)", vb_cli_cmd_rebalance },
    { "place", "rank the hosts for a new guest", vb_cli_cmd_place },
    { "policy", "check a policy file (policy check FILE)", vb_cli_cmd_policy },
    { "status", "show every host's state and its latest and averaged load", vb_cli_cmd_status },
    { "inventory", "write the pool in the inventory format (--format yaml)", vb_cli_cmd_inventory },
    { "maintenance", "hosts in maintenance: list, enter HOST, exit HOST [--move-back]", vb_cli_cmd_maintenance },
    { "history", "recent plans and migrations from the journal", vb_cli_cmd_history },
    { "unlock", "remove the acting lock of a virt-balancer that is gone (--force)", vb_cli_cmd_unlock },
    { "run", "the periodic rebalancer (the daemon virt-balancer.service runs)", vb_cli_cmd_run },
    { "help", "print the help of virt-balancer or of a command", vb_cli_cmd_help },
    { NULL, NULL, NULL },
};

const VbCliCommand *
vb_cli_command_find(const char *name)
{
    for (const VbCliCommand *c = vb_cli_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

static const char global_usage[] =
    "Usage: virt-balancer [OPTION...] COMMAND [ARG...]\n"
    "\n"
    "Balances a pool of libvirt/KVM hosts under a policy: plans live migrations\n"
    "(plan, evacuate --dry-run, place never change anything) and executes them\n"
    "(rebalance, evacuate, run).\n"
    "\n"
    "Options (before the command):\n"
    "  --inventory FILE    plan on the simulated pool described by FILE\n"
    "  --config FILE       main config (default " VB_CLI_DEFAULT_CONFIG ")\n"
    "  --policy FILE       policy (default: the config's policy, else built-in defaults)\n"
    "  --format text|json|html  output format (default text; also accepted after the\n"
    "                      command; html: plan, evacuate --dry-run, history)\n"
    "  --verbose           log more: debug lines, every progress poll (also after\n"
    "                      the command)\n"
    "  --quiet             log only warnings and errors (also after the command)\n"
    "  --version           print the version and exit\n"
    "  --help              print this help and exit\n"
    "\n"
    "Commands:\n";

static const char global_footer[] =
    "\n"
    "Without --inventory or --config, and when the default config file does not\n"
    "exist, the demo pool built into the program is used (said on stderr).\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  runtime failure (a migration failed, evacuate of a host that cannot be\n"
    "     read, ...)\n"
    "  2  usage error (bad option, unknown command, host or pool)\n"
    "  3  invalid input (a policy, inventory or config file is wrong or unreadable)\n"
    "  4  nothing placeable (evacuate left guests behind, place found no host)\n"
    "  5  done, but part of the pool could not be read (plan, evacuate, rebalance,\n"
    "     status, inventory: the hosts not read are listed and were left out)\n"
    "  6  interrupted: SIGTERM/SIGINT stopped an acting command before its plan\n"
    "     finished, or migrations were left running for the next run to reconcile\n"
    "\n"
    "Run 'virt-balancer COMMAND --help' for the options of a command.\n";

char *
vb_cli_global_help(void)
{
    GString *text = g_string_new(global_usage);
    gsize width = 0;

    for (const VbCliCommand *c = vb_cli_commands; c->name; c++)
        width = MAX(width, strlen(c->name));
    for (const VbCliCommand *c = vb_cli_commands; c->name; c++)
        g_string_append_printf(text, "  %-*s  %s\n", (int) width, c->name, c->summary);
    g_string_append(text, global_footer);
    return g_string_free(text, FALSE);
}

int
vb_cli_cmd_help(VbCliContext *ctx, int argc, char **argv)
{
    const VbCliCommand *command;
    char *help_argv[] = { NULL, (char *) "--help", NULL };
    g_autofree char *text = NULL;

    /* `help --help` is the global help too: every command answers --help. */
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        text = vb_cli_global_help();
        fputs(text, ctx->out);
        return VB_EXIT_OK;
    }
    if (argc > 2)
        return vb_cli_usage_error("help: too many arguments; usage: help [COMMAND]");
    command = vb_cli_command_find(argv[1]);
    if (!command)
        return vb_cli_usage_error("help: unknown command '%s'", argv[1]);
    help_argv[0] = argv[1];
    return command->run(ctx, 2, help_argv);
}
