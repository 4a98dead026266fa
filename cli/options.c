/*
 * options.c: parsing of a command's own options, its --help text, and the
 * one way every command reports an error and turns it into an exit code.
 *
 * Errors are printed as "virt-balancer: <message>" with the GError message
 * unchanged (loaders already name file:line:column). The exit code depends
 * only on the error code, so every command maps errors the same way:
 *   VB_ERROR_USAGE, VB_ERROR_NOT_FOUND          -> 2 (the command line names
 *                                                  something wrong)
 *   VB_ERROR_INVALID_INPUT, VB_ERROR_IO          -> 3 (an input file is wrong
 *                                                  or cannot be read)
 *   VB_ERROR_UNPLACEABLE                         -> 4
 *   anything else                                -> 1
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "cli/cli.h"

int
vb_cli_exit_code(const GError *error)
{
    if (!error || error->domain != VB_ERROR)
        return VB_EXIT_FAILURE;
    switch ((VbErrorCode) error->code) {
    case VB_ERROR_USAGE:
    case VB_ERROR_NOT_FOUND:
        return VB_EXIT_USAGE;
    case VB_ERROR_INVALID_INPUT:
    case VB_ERROR_IO:
        return VB_EXIT_INVALID_INPUT;
    case VB_ERROR_UNPLACEABLE:
        return VB_EXIT_UNPLACEABLE;
    default:
        return VB_EXIT_FAILURE;
    }
}

int
vb_cli_report_error(const GError *error)
{
    /* Messages quote names from files and from libvirt: a control character
     * in one must not reach the terminal raw (util/text.c). */
    g_autofree char *message = vb_text_escape(error ? error->message : "unknown error");

    fprintf(stderr, "virt-balancer: %s\n", message);
    return vb_cli_exit_code(error);
}

int
vb_cli_usage_error(const char *format, ...)
{
    g_autofree char *message = NULL;
    va_list args;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    fprintf(stderr, "virt-balancer: %s\n", message);
    return VB_EXIT_USAGE;
}

/* Adds "--vcpus N | what it is" rows for @entries to @table. */
static void
add_entries(VbCliTable *table, const GOptionEntry *entries)
{
    for (const GOptionEntry *e = entries; e->long_name; e++) {
        g_autofree char *left = e->arg_description
            ? g_strdup_printf("--%s %s", e->long_name, e->arg_description)
            : g_strdup_printf("--%s", e->long_name);
        const char *cells[] = { left, e->description };

        vb_cli_table_add(table, cells);
    }
}

static void
print_command_help(FILE *out, const char *usage, const char *description,
                   const GOptionEntry *entries, const GOptionEntry *common)
{
    g_autoptr(VbCliTable) table = vb_cli_table_new(2);

    fprintf(out, "Usage: virt-balancer [GLOBAL OPTION...] %s\n\n%s\n\nOptions:\n", usage,
            description);
    add_entries(table, entries);
    add_entries(table, common);
    vb_cli_table_print(table, out, "  ");
    fputs("\nRun 'virt-balancer --help' for the global options and exit codes.\n", out);
}

gboolean
vb_cli_parse_options(VbCliContext *ctx, int *argc, char ***argv, const char *usage,
                     const char *description, const GOptionEntry *entries, int *ret_exit)
{
    g_autofree char *format = NULL;
    gboolean help = FALSE, verbose = FALSE, quiet = FALSE;
    const GOptionEntry common[] = {
        { "format", 0, 0, G_OPTION_ARG_STRING, &format, "output format (default text)",
          ctx->html_ok ? "text|json|html" : "text|json" },
        { "verbose", 0, 0, G_OPTION_ARG_NONE, &verbose,
          "log more on stderr (debug lines, every progress poll)", NULL },
        { "quiet", 0, 0, G_OPTION_ARG_NONE, &quiet,
          "log only warnings and errors on stderr", NULL },
        { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "print this help and exit", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) octx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;

    g_option_context_set_help_enabled(octx, FALSE);
    g_option_context_add_main_entries(octx, entries, NULL);
    g_option_context_add_main_entries(octx, common, NULL);
    if (!g_option_context_parse(octx, argc, argv, &error)) {
        fprintf(stderr, "virt-balancer: %s: %s\nUsage: virt-balancer [GLOBAL OPTION...] %s\n",
                (*argv)[0], error->message, usage);
        *ret_exit = VB_EXIT_USAGE;
        return FALSE;
    }
    if (help) {
        print_command_help(ctx->out, usage, description, entries, common);
        *ret_exit = VB_EXIT_OK;
        return FALSE;
    }
    if ((format && !vb_cli_context_set_format(ctx, format, &error)) ||
        !vb_cli_context_set_verbosity(ctx, verbose, quiet, &error)) {
        *ret_exit = vb_cli_report_error(error);
        return FALSE;
    }
    /* Also when --format html came before the command (main.c). */
    if (ctx->format == VB_CLI_FORMAT_HTML && !ctx->html_ok) {
        *ret_exit = vb_cli_usage_error("%s: there is no HTML output for this command (html: "
                                       "plan, evacuate --dry-run, history); use text or json",
                                       (*argv)[0]);
        return FALSE;
    }
    return TRUE;
}
