/*
 * cmd-policy.c: `policy check FILE [--inventory INV | --config CONF]`: load a
 * policy with the strict loader and say whether it is valid. Valid: one
 * summary line (or a small JSON object), exit 0. Invalid: the loader's
 * "file:line:column: what is wrong" on stderr, exit 3. The policy is not
 * applied anywhere; this is for admins editing one.
 *
 * With a pool (--inventory or --config, before or after the command words),
 * the rules are also checked against the pool's guests
 * (vb_placement_rule_warnings): a rule matching no guest at all is an error
 * (exit 3, nothing on stdout), a name no guest has is a warning; each is one
 * "file:line:column: error|warning: ..." line on stderr (in JSON, warnings of
 * a valid policy are in its `warnings` member instead). Without a pool the
 * file alone is checked, as before: no default config is opened.
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"

/* "cpu 1, memory 1, disk 0" (transfer full). */
static char *
weights_text(const VbPolicy *policy)
{
    GString *text = g_string_new(NULL);

    for (guint m = 0; m < VB_METRIC_LAST; m++)
        g_string_append_printf(text, "%s%s %g", m ? ", " : "", vb_metric_names[m],
                               policy->weights[m]);
    return g_string_free(text, FALSE);
}

static void
print_summary_json(FILE *out, const char *path, const VbPolicy *policy,
                   const VbInventory *inv, const char *source)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "file", path);
    vb_cli_json_add_bool(b, "valid", TRUE);
    vb_cli_json_add_string(b, "goal", vb_goal_names[policy->goal]);
    vb_cli_json_add_string(b, "load_source", vb_load_source_names[policy->load_source]);
    json_builder_set_member_name(b, "weights");
    json_builder_begin_object(b);
    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        json_builder_set_member_name(b, vb_metric_names[m]);
        json_builder_add_double_value(b, policy->weights[m]);
    }
    json_builder_end_object(b);
    vb_cli_json_add_int(b, "rules", policy->rules ? policy->rules->len : 0);
    vb_cli_json_add_int(b, "max_migrations", policy->max_migrations);
    vb_cli_json_add_string(b, "source", inv ? source : NULL);
    vb_cli_json_add_rule_warnings(b, inv, policy);
    json_builder_end_object(b);
    text = vb_cli_json_finish(b);
    fputs(text, out);
}

/* Rules matching no guest at all: errors for `policy check`. */
static guint
count_errors(const GArray *warnings)
{
    guint n = 0;

    for (guint i = 0; i < warnings->len; i++)
        n += g_array_index(warnings, VbRuleWarning, i).kind == VB_RULE_WARNING_NO_GUEST;
    return n;
}

/* The pool to check the rules against: --inventory or --config (of the
 * command or global), else none (NULL without an error). */
static VbInventory *
check_pool(VbCliContext *ctx, GError **error)
{
    if (!ctx->inventory_path && !ctx->config_path)
        return NULL;
    return vb_cli_context_get_inventory(ctx, error);
}

static int
policy_check(VbCliContext *ctx, const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_load_file(path, &error);
    g_autoptr(GArray) warnings = NULL;
    g_autofree char *weights = NULL;
    g_autofree char *pool_text = NULL;
    VbInventory *inv = NULL;
    guint n_errors = 0;

    if (!policy)
        return vb_cli_report_error(error);
    inv = check_pool(ctx, &error);
    if (error)
        return vb_cli_report_error(error);
    if (inv) {
        warnings = vb_placement_rule_warnings(inv, policy);
        n_errors = count_errors(warnings);
        /* The JSON of a valid policy carries its warnings; else stderr does. */
        if (n_errors > 0 || ctx->format == VB_CLI_FORMAT_TEXT)
            vb_cli_report_rule_warnings(policy, warnings, TRUE);
    }
    if (n_errors > 0) {
        fprintf(stderr, "virt-balancer: %s: %u rule%s match%s no guest of %s; fix the names "
                "or drop the rule%s\n", path, n_errors, n_errors == 1 ? "" : "s",
                n_errors == 1 ? "es" : "", ctx->source_name, n_errors == 1 ? "" : "s");
        return VB_EXIT_INVALID_INPUT;
    }
    if (ctx->format == VB_CLI_FORMAT_JSON) {
        print_summary_json(ctx->out, path, policy, inv, ctx->source_name);
        return VB_EXIT_OK;
    }
    weights = weights_text(policy);
    if (inv)
        pool_text = g_strdup_printf("; checked against %s: %u warning%s", ctx->source_name,
                                    warnings->len, warnings->len == 1 ? "" : "s");
    fprintf(ctx->out, "%s: valid: goal %s, load %s, weights %s, %u rule%s, "
            "at most %u migration%s per run%s\n", path, vb_goal_names[policy->goal],
            vb_load_source_names[policy->load_source], weights,
            policy->rules ? policy->rules->len : 0,
            policy->rules && policy->rules->len == 1 ? "" : "s", policy->max_migrations,
            policy->max_migrations == 1 ? "" : "s", pool_text ? pool_text : "");
    return VB_EXIT_OK;
}

#define POLICY_USAGE "policy check FILE [--inventory FILE | --config FILE]"

int
vb_cli_cmd_policy(VbCliContext *ctx, int argc, char **argv)
{
    g_autofree char *inventory = NULL;
    g_autofree char *config = NULL;
    const GOptionEntry entries[] = {
        { "inventory", 0, 0, G_OPTION_ARG_FILENAME, &inventory,
          "also check the rules against the guests of this inventory", "FILE" },
        { "config", 0, 0, G_OPTION_ARG_FILENAME, &config,
          "also check the rules against the pool of this config", "FILE" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc;

    if (!vb_cli_parse_options(ctx, &argc, &argv, POLICY_USAGE,
                              "Checks a policy file with the same strict loader the planner "
                              "uses. Valid: a\none-line summary and exit 0. Invalid: "
                              "file:line:column, what is wrong and what\nis allowed, "
                              "and exit 3. With a pool (--inventory or --config), the rules\n"
                              "are checked against its guests too: a name no guest has is a "
                              "warning, a rule\nmatching no guest at all an error (exit 3).",
                              entries, &rc))
        return rc;
    if (argc < 2)
        return vb_cli_usage_error("policy: no subcommand given; usage: " POLICY_USAGE);
    if (strcmp(argv[1], "check") != 0)
        return vb_cli_usage_error("policy: unknown subcommand '%s'; usage: " POLICY_USAGE,
                                  argv[1]);
    if (argc != 3)
        return vb_cli_usage_error("policy check: %s; usage: " POLICY_USAGE,
                                  argc < 3 ? "no file given" : "too many arguments");
    /* After the command words they mean what they mean before them. */
    if (inventory) {
        g_free(ctx->inventory_path);
        ctx->inventory_path = g_steal_pointer(&inventory);
    }
    if (config) {
        g_free(ctx->config_path);
        ctx->config_path = g_steal_pointer(&config);
    }
    if (ctx->inventory_path && ctx->config_path)
        return vb_cli_usage_error("policy check: --inventory and --config cannot be used "
                                  "together");
    return policy_check(ctx, argv[2]);
}
