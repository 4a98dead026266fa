/*
 * cmd-unlock.c: `unlock [--force] [--database FILE]`, removing the acting
 * lock of the journal database by hand.
 *
 * The acting lock takes over a row left by a dead process only on the
 * machine that wrote it; a row written on another host (a database on
 * shared storage) counts as alive, because its pid and boot id mean nothing
 * here. When that host is certainly gone (powered off, its virt-balancer
 * killed), an admin removes the row with `unlock --force`. Without --force
 * only a stale row of this host is removed; a live or unknowable holder is
 * named and kept (exit 1). Never run --force while the holder may still act:
 * two executors would then move the same guests.
 */
#include "config.h"

#include "cli/exec-priv.h"

int
vb_cli_cmd_unlock(VbCliContext *ctx, int argc, char **argv)
{
    g_autofree char *database = NULL;
    gboolean force = FALSE;
    const GOptionEntry entries[] = {
        { "force", 0, 0, G_OPTION_ARG_NONE, &force,
          "remove the lock even when its holder may be alive (another host)", NULL },
        VB_CLI_OPTION_DATABASE(database),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(VbStore) store = NULL;
    g_autoptr(VbJournal) journal = NULL;
    g_autoptr(GError) error = NULL;
    VbJournalLockHolder holder = { 0 };
    g_autofree char *host = NULL;
    int rc = VB_EXIT_OK;

    if (!vb_cli_parse_options(ctx, &argc, &argv, "unlock [--force]",
                              "Removes the acting lock left by a virt-balancer that is gone. "
                              "A lock taken on\nanother host is kept unless --force is given: "
                              "use it only when that\nprocess is certainly gone.",
                              entries, &rc))
        return rc;
    if (argc > 1)
        return vb_cli_usage_error("unlock: unexpected argument '%s'", argv[1]);
    journal = vb_cli_journal_open(ctx, database, &store, &error);
    if (!journal || !vb_journal_lock_break(journal, force, &holder, &error))
        return vb_cli_report_error(error);
    host = holder.hostname;
    if (!holder.found)
        fprintf(ctx->out, "No lock was held.\n");
    else
        fprintf(ctx->out, "Removed the %s lock of pid %" G_GINT64_FORMAT " on %s.\n",
                holder.alive ? "forced" : "stale", holder.pid, host ? host : "an unknown host");
    return VB_EXIT_OK;
}
