/*
 * cmd-place.c: `place`: rank the hosts for a guest that does not exist yet,
 * like WLB's star ratings. Every host is listed, best first; hosts that
 * cannot take the guest come last with 0 stars and the constraint that
 * refused them. Exit code 4 when no host can take it. Hosts in the
 * journal's maintenance set are refused like any host not up.
 */
#include "config.h"

#include "cli/cli.h"

typedef struct {
    gint vcpus;          /* --vcpus */
    gint64 memory_mib;   /* --memory-mib */
    double disk_gib;     /* --disk-gib */
    gboolean shared;     /* --shared-disk */
    char **labels;       /* --label, repeatable (owned) */
    char *pool;          /* --pool (owned) */
    char *name;          /* --name (owned) */
} PlaceArgs;

static void
place_args_clear(PlaceArgs *args)
{
    g_strfreev(args->labels);
    g_free(args->pool);
    g_free(args->name);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PlaceArgs, place_args_clear)

/* Checks the numbers a person typed; returns VB_EXIT_OK or prints why. */
static int
check_args(const PlaceArgs *args, const VbInventory *inv, const char *source)
{
    if (args->vcpus <= 0)
        return vb_cli_usage_error("place: --vcpus N is required and must be at least 1");
    if (args->memory_mib <= 0)
        return vb_cli_usage_error("place: --memory-mib N is required and must be at least 1");
    if (!(args->disk_gib >= 0.0))
        return vb_cli_usage_error("place: --disk-gib must be 0 or more");
    if (args->pool && inv && !vb_inventory_get_pool(inv, args->pool))
        return vb_cli_usage_error("place: there is no pool '%s' in %s", args->pool, source);
    return VB_EXIT_OK;
}

static int
rank_and_show(VbCliContext *ctx, VbInventory *inv, VbPolicy *policy, const PlaceArgs *args)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbRanking) ranking = NULL;
    VbVmSpec spec = {
        .name = args->name ? args->name : (char *) "new-guest",
        .vcpus = (guint) args->vcpus,
        .memory_mib = (guint64) args->memory_mib,
        .disk_gib = args->disk_gib,
        .disk_shared = args->shared,
        .pool = args->pool,
        .labels = args->labels,
        .cpu_usage = 0.5,
    };
    VbCliPlaceView view = { .inv = inv, .policy = policy, .spec = &spec,
                            .source_name = ctx->source_name };
    gboolean any = FALSE;

    ranking = vb_placement_place(inv, policy, &spec, &error);
    if (!ranking)
        return vb_cli_report_error(error);
    view.ranking = ranking;
    if (ctx->format == VB_CLI_FORMAT_JSON) {
        g_autofree char *json = vb_cli_render_place_json(&view);

        fputs(json, ctx->out);
    } else {
        vb_cli_render_place_text(ctx->out, &view, ctx->color);
    }
    any = ranking->hosts->len > 0 && g_array_index(ranking->hosts, VbPlacement, 0).stars > 0;
    return any ? VB_EXIT_OK : VB_EXIT_UNPLACEABLE;
}

int
vb_cli_cmd_place(VbCliContext *ctx, int argc, char **argv)
{
    g_auto(PlaceArgs) args = { 0 };
    const GOptionEntry entries[] = {
        { "vcpus", 0, 0, G_OPTION_ARG_INT, &args.vcpus, "virtual CPUs of the guest", "N" },
        { "memory-mib", 0, 0, G_OPTION_ARG_INT64, &args.memory_mib, "memory of the guest", "N" },
        { "disk-gib", 0, 0, G_OPTION_ARG_DOUBLE, &args.disk_gib, "size of its disks (default 0)",
          "N" },
        { "shared-disk", 0, 0, G_OPTION_ARG_NONE, &args.shared,
          "its disks are on shared storage", NULL },
        { "label", 0, 0, G_OPTION_ARG_STRING_ARRAY, &args.labels,
          "a label of the guest, for label rules (repeatable)", "L" },
        { "pool", 0, 0, G_OPTION_ARG_STRING, &args.pool, "only hosts of this pool", "P" },
        { "name", 0, 0, G_OPTION_ARG_STRING, &args.name,
          "its name, for affinity rules (default new-guest)", "NAME" },
        VB_CLI_OPTION_DATABASE(ctx->database_path),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GError) error = NULL;
    VbInventory *inv = NULL;
    VbPolicy *policy = NULL;
    int rc;

    if (!vb_cli_parse_options(ctx, &argc, &argv,
                              "place --vcpus N --memory-mib N [--disk-gib N] [--label L ...] "
                              "[--pool P] [--name NAME]",
                              "Ranks every host for a new guest, best first, with a score "
                              "(0-100) and\nstars (0-5); hosts that cannot take it have 0 stars "
"and the reason.\nThe exit code is 4 when no host can take it. Hosts in maintenance "
                              "(the\njournal's set) are refused with the recorded reason.",
                              entries, &rc))
        return rc;
    if (argc > 1)
        return vb_cli_usage_error("place: unexpected argument '%s'", argv[1]);
    if ((rc = check_args(&args, NULL, NULL)) != VB_EXIT_OK)
        return rc;
    if (!(policy = vb_cli_context_get_policy(ctx, &error)) ||
        !(inv = vb_cli_context_get_inventory(ctx, &error)) ||
        !vb_cli_context_apply_journal(ctx, inv, NULL, &error))
        return vb_cli_report_error(error);
    if ((rc = check_args(&args, inv, ctx->source_name)) != VB_EXIT_OK)
        return rc;
    return rank_and_show(ctx, inv, policy, &args);
}
