/*
 * cmd-policy.c: `policy check FILE`: load a policy with the strict loader and
 * say whether it is valid. Valid: one summary line (or a small JSON object),
 * exit 0. Invalid: the loader's "file:line:column: what is wrong" on stderr,
 * exit 3. The policy is not applied anywhere; this is for admins editing one.
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
print_summary_json(FILE *out, const char *path, const VbPolicy *policy)
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
    json_builder_end_object(b);
    text = vb_cli_json_finish(b);
    fputs(text, out);
}

static int
policy_check(VbCliContext *ctx, const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_load_file(path, &error);
    g_autofree char *weights = NULL;

    if (!policy)
        return vb_cli_report_error(error);
    if (ctx->format == VB_CLI_FORMAT_JSON) {
        print_summary_json(ctx->out, path, policy);
        return VB_EXIT_OK;
    }
    weights = weights_text(policy);
    fprintf(ctx->out, "%s: valid: goal %s, load %s, weights %s, %u rule%s, "
            "at most %u migration%s per run\n", path, vb_goal_names[policy->goal],
            vb_load_source_names[policy->load_source], weights,
            policy->rules ? policy->rules->len : 0,
            policy->rules && policy->rules->len == 1 ? "" : "s", policy->max_migrations,
            policy->max_migrations == 1 ? "" : "s");
    return VB_EXIT_OK;
}

int
vb_cli_cmd_policy(VbCliContext *ctx, int argc, char **argv)
{
    const GOptionEntry entries[] = {
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc;

    if (!vb_cli_parse_options(ctx, &argc, &argv, "policy check FILE",
                              "Checks a policy file with the same strict loader the planner "
                              "uses. Valid: a\none-line summary and exit 0. Invalid: "
                              "file:line:column, what is wrong and what\nis allowed, "
                              "and exit 3.",
                              entries, &rc))
        return rc;
    if (argc < 2)
        return vb_cli_usage_error("policy: no subcommand given; usage: policy check FILE");
    if (strcmp(argv[1], "check") != 0)
        return vb_cli_usage_error("policy: unknown subcommand '%s'; usage: policy check FILE",
                                  argv[1]);
    if (argc != 3)
        return vb_cli_usage_error("policy check: %s; usage: policy check FILE",
                                  argc < 3 ? "no file given" : "too many arguments");
    return policy_check(ctx, argv[2]);
}
