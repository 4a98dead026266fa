/*
 * session.c: one command's access to a pool for collecting: the driver
 * connection, the database and the collector, opened together and closed
 * together.
 *
 * Two ways in: a config (its driver and its database: the history persists
 * between runs and is shared with the daemon), or an inventory handed over
 * by the caller (a sim connection and an in-memory database: `status` and
 * `inventory` on a file, for tests and replays). The session owns all of it;
 * freeing closes the connection last, after the collector that borrows it.
 */
#include "config.h"

#include "collectors/collectors.h"

void
vb_collect_session_free(VbCollectSession *session)
{
    if (!session)
        return;
    vb_collector_free(session->collector);
    vb_store_free(session->store);
    if (session->conn)
        session->ops->close(session->conn);
    g_free(session);
}

static const VbDriverOps *
session_driver(const VbConfig *config, GError **error)
{
    const VbDriverOps *ops = vb_driver_find(config->driver);

    /* sim is always available, registered or not. */
    if (!ops && g_strcmp0(config->driver, "sim") == 0)
        ops = &vb_driver_sim;
    if (!ops)
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: unknown driver '%s'",
                    config->filename ? config->filename : "config",
                    config->driver ? config->driver : "(none)");
    return ops;
}

VbCollectSession *
vb_collect_session_open(const VbConfig *config, VbInventory *inventory, GError **error)
{
    g_autoptr(VbCollectSession) s = g_new0(VbCollectSession, 1);
    VbConfig defaults = {
        .window_seconds = VB_COLLECT_DEFAULT_WINDOW_S,
        .retention_seconds = VB_COLLECT_DEFAULT_RETENTION_S,
    };
    VbConfig in_memory;

    g_return_val_if_fail(config || inventory, NULL);
    if (inventory) {
        /* The config's window, but never its database: a replayed file must
         * not mix its samples into a real pool's history. */
        in_memory = config ? *config : defaults;
        in_memory.database = NULL;
        s->ops = &vb_driver_sim;
        s->conn = vb_sim_conn_new(inventory);
        config = &in_memory;
    } else {
        s->ops = session_driver(config, error);
        if (!s->ops || !(s->conn = s->ops->open(config, error)))
            return NULL;
    }
    s->window_seconds = config->window_seconds ? config->window_seconds
                                               : VB_COLLECT_DEFAULT_WINDOW_S;
    s->store = vb_store_open_for_config(config, error);
    if (!s->store)
        return NULL;
    s->collector = vb_collector_new_for_config(s->conn, s->ops, s->store, config, error);
    if (!s->collector)
        return NULL;
    return g_steal_pointer(&s);
}
