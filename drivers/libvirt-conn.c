/*
 * libvirt-conn.c: the libvirt driver's connections, and its ops table.
 *
 * One connection per configured host. libvirt has no timeout for opening a
 * connection (an SSH prompt or a firewalled port can hang for minutes), so
 * each attempt runs in a worker thread and the caller stops waiting after the
 * host's timeout; an attempt that completes after it was abandoned closes its
 * own connection. libvirt's keepalive needs an event loop: the default one is
 * registered once and runs in a dedicated thread for the life of the process.
 *
 * Invariants: a host's `conn` is either NULL (down, `reason` says why) or a
 * connection that was alive when last checked; every error leaving this
 * folder is a VB_ERROR naming the host, with libvirt's own message.
 */
#include "config.h"

#include "drivers/libvirt-priv.h"

#define VB_LV_KEEPALIVE_INTERVAL 5 /* seconds between keepalive probes */
#define VB_LV_KEEPALIVE_COUNT 3    /* unanswered probes before the connection is closed */

/* --------------------------------------------------------------- globals */

/* libvirt reports errors through virGetLastError; its default handler would
 * also print them on stderr. The library decides nothing about output. */
static void
vb_lv_quiet_error(void *data, virErrorPtr err)
{
}

static gpointer
vb_lv_event_thread(gpointer data)
{
    for (;;) {
        if (virEventRunDefaultImpl() < 0)
            g_usleep(100000); /* defensive: never spin if the loop breaks */
    }
    return NULL;
}

static gpointer
vb_lv_global_init_once(gpointer data)
{
    virInitialize();
    virSetErrorFunc(NULL, vb_lv_quiet_error);
    if (virEventRegisterDefaultImpl() == 0)
        g_thread_unref(g_thread_new("vb-libvirt-events", vb_lv_event_thread, NULL));
    else
        g_debug("libvirt: no event loop, keepalive disabled: %s", virGetLastErrorMessage());
    return NULL;
}

void
vb_lv_global_init(void)
{
    static GOnce once = G_ONCE_INIT;

    g_once(&once, vb_lv_global_init_once, NULL);
}

gboolean
vb_lv_error(GError **error, VbErrorCode code, const char *host, const char *what)
{
    const char *message = virGetLastErrorMessage();

    g_set_error(error, VB_ERROR, code, "%s: %s: %s", host, what,
                message && *message ? message : "unknown libvirt error");
    virResetLastError();
    return FALSE;
}

/* ----------------------------------------------------- opening with a timeout */

/* One connection attempt, shared by the caller and its worker thread. */
typedef struct {
    gatomicrefcount refs;
    GMutex lock;
    GCond cond;
    char *uri;
    gboolean done;        /* the worker finished */
    gboolean abandoned;   /* the caller stopped waiting */
    virConnectPtr conn;   /* the result, or NULL */
    char *message;        /* libvirt's error, when conn is NULL */
} VbLvAttempt;

static void
vb_lv_attempt_unref(VbLvAttempt *attempt)
{
    if (!g_atomic_ref_count_dec(&attempt->refs))
        return;
    if (attempt->conn)
        virConnectClose(attempt->conn);
    g_free(attempt->uri);
    g_free(attempt->message);
    g_mutex_clear(&attempt->lock);
    g_cond_clear(&attempt->cond);
    g_free(attempt);
}

/* Never prompt: a daemon has nobody to answer. Any credential asked for is
 * refused, which libvirt reports as an authentication failure. */
static int
vb_lv_auth_callback(virConnectCredentialPtr cred, unsigned int ncred, void *data)
{
    return -1;
}

static int vb_lv_auth_types[] = {
    VIR_CRED_AUTHNAME, VIR_CRED_PASSPHRASE, VIR_CRED_ECHOPROMPT, VIR_CRED_NOECHOPROMPT,
};

static virConnectAuth vb_lv_auth = {
    .credtype = vb_lv_auth_types,
    .ncredtype = G_N_ELEMENTS(vb_lv_auth_types),
    .cb = vb_lv_auth_callback,
};

static gpointer
vb_lv_attempt_thread(gpointer data)
{
    VbLvAttempt *attempt = data;
    virConnectPtr conn = virConnectOpenAuth(attempt->uri, &vb_lv_auth, 0);
    char *message = conn ? NULL : g_strdup(virGetLastErrorMessage());

    g_mutex_lock(&attempt->lock);
    attempt->done = TRUE;
    if (attempt->abandoned) {
        if (conn)
            virConnectClose(conn);
        g_free(message);
    } else {
        attempt->conn = conn;
        attempt->message = message;
    }
    g_cond_signal(&attempt->cond);
    g_mutex_unlock(&attempt->lock);
    vb_lv_attempt_unref(attempt);
    return NULL;
}

virConnectPtr
vb_lv_open_uri(const char *host, const char *uri, guint timeout_seconds, GError **error)
{
    VbLvAttempt *attempt = g_new0(VbLvAttempt, 1);
    gint64 deadline = g_get_monotonic_time() + (gint64) MAX(timeout_seconds, 1) * G_USEC_PER_SEC;
    virConnectPtr conn = NULL;
    gboolean done;

    vb_lv_global_init();
    g_atomic_ref_count_init(&attempt->refs);
    g_atomic_ref_count_inc(&attempt->refs); /* one for the worker */
    g_mutex_init(&attempt->lock);
    g_cond_init(&attempt->cond);
    attempt->uri = g_strdup(uri);
    g_thread_unref(g_thread_new("vb-libvirt-connect", vb_lv_attempt_thread, attempt));

    g_mutex_lock(&attempt->lock);
    while (!attempt->done && g_cond_wait_until(&attempt->cond, &attempt->lock, deadline))
        ;
    done = attempt->done;
    if (done) {
        conn = g_steal_pointer(&attempt->conn);
        if (!conn)
            g_set_error(error, VB_ERROR, VB_ERROR_CONNECT, "%s: cannot connect: %s", host,
                        attempt->message && *attempt->message ? attempt->message
                                                              : "unknown libvirt error");
    } else {
        attempt->abandoned = TRUE;
        g_set_error(error, VB_ERROR, VB_ERROR_TIMEOUT, "%s: cannot connect: timed out after %u s",
                    host, MAX(timeout_seconds, 1));
    }
    g_mutex_unlock(&attempt->lock);
    vb_lv_attempt_unref(attempt);
    if (conn && virConnectSetKeepAlive(conn, VB_LV_KEEPALIVE_INTERVAL, VB_LV_KEEPALIVE_COUNT) < 0) {
        g_debug("%s: no keepalive: %s", host, virGetLastErrorMessage());
        virResetLastError();
    }
    return conn;
}

/* ------------------------------------------------------------ hosts */

static void
vb_lv_host_free(VbLvHost *host)
{
    if (!host)
        return;
    if (host->conn)
        virConnectClose(host->conn);
    g_free(host->name);
    g_free(host->uri);
    g_free(host->pool);
    g_strfreev(host->labels);
    g_free(host->migration_host);
    g_free(host->cpu_vendor);
    g_free(host->reason);
    vb_host_sample_free(host->prev);
    vb_host_sample_free(host->last);
    g_mutex_clear(&host->lock);
    g_free(host);
}

void
vb_lv_host_mark_down(VbLvHost *host, const char *reason)
{
    g_mutex_lock(&host->lock);
    if (host->conn)
        virConnectClose(g_steal_pointer(&host->conn));
    g_free(host->reason);
    host->reason = g_strdup(reason);
    g_mutex_unlock(&host->lock);
}

virConnectPtr
vb_lv_host_connect(VbLvHost *host, GError **error)
{
    g_autoptr(GError) local = NULL;
    virConnectPtr conn;

    g_mutex_lock(&host->lock);
    if (host->conn && virConnectIsAlive(host->conn) != 1) {
        g_debug("%s: connection lost, reconnecting", host->name);
        virConnectClose(g_steal_pointer(&host->conn));
        virResetLastError();
    }
    if (!host->conn) {
        host->conn = vb_lv_open_uri(host->name, host->uri, host->timeout_seconds, &local);
        g_free(host->reason);
        host->reason = local ? g_strdup(local->message) : NULL;
    }
    conn = host->conn;
    if (conn)
        virConnectRef(conn);
    g_mutex_unlock(&host->lock);
    if (!conn)
        g_propagate_error(error, g_steal_pointer(&local));
    return conn;
}

VbLvHost *
vb_lv_conn_host(VbConn *conn, const char *name)
{
    for (guint i = 0; name && i < conn->hosts->len; i++) {
        VbLvHost *host = g_ptr_array_index(conn->hosts, i);

        if (strcmp(host->name, name) == 0)
            return host;
    }
    return NULL;
}

typedef struct {
    VbLvHost *host;
    void (*func)(VbLvHost *host, gpointer data);
    gpointer data;
} VbLvTask;

static gpointer
vb_lv_task_thread(gpointer data)
{
    VbLvTask *task = data;

    task->func(task->host, task->data);
    return NULL;
}

void
vb_lv_foreach_host_parallel(VbConn *conn, void (*func)(VbLvHost *host, gpointer data),
                            gpointer data)
{
    guint n = conn->hosts->len;
    g_autofree VbLvTask *tasks = g_new0(VbLvTask, n);
    g_autofree GThread **threads = g_new0(GThread *, n);

    for (guint i = 0; i < n; i++) {
        tasks[i] = (VbLvTask) { g_ptr_array_index(conn->hosts, i), func, data };
        threads[i] = g_thread_new("vb-libvirt-host", vb_lv_task_thread, &tasks[i]);
    }
    for (guint i = 0; i < n; i++)
        g_thread_join(threads[i]);
}

/* ------------------------------------------------------------ open/close */

static VbLvHost *
vb_lv_host_new(const VbConfig *config, const VbConfigPool *pool, const VbConfigHost *ch)
{
    VbLvHost *host = g_new0(VbLvHost, 1);

    g_mutex_init(&host->lock);
    host->name = g_strdup(ch->name);
    host->uri = g_strdup(ch->uri);
    host->pool = g_strdup(pool->name);
    host->shared_storage = pool->shared_storage;
    host->labels = g_strdupv(ch->labels);
    host->migration_host = g_strdup(ch->migration_host);
    host->cpu_vendor = g_strdup(ch->cpu_vendor);
    host->timeout_seconds = config->connect_timeout_seconds ? config->connect_timeout_seconds : 10;
    return host;
}

static void
vb_lv_open_one(VbLvHost *host, gpointer data)
{
    virConnectPtr conn = vb_lv_host_connect(host, NULL);

    if (conn)
        virConnectClose(conn); /* drop our reference; the host keeps its own */
}

static void vb_lv_close(VbConn *conn);

static VbConn *
vb_lv_open(const VbConfig *config, GError **error)
{
    VbConn *conn = g_new0(VbConn, 1);

    vb_lv_global_init();
    conn->hosts = g_ptr_array_new_with_free_func((GDestroyNotify) vb_lv_host_free);
    for (guint p = 0; config->pools && p < config->pools->len; p++) {
        const VbConfigPool *pool = g_ptr_array_index(config->pools, p);

        for (guint h = 0; pool->hosts && h < pool->hosts->len; h++) {
            const VbConfigHost *ch = g_ptr_array_index(pool->hosts, h);

            if (!ch->name || !ch->uri) {
                g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                            "pool '%s': a host has no %s", pool->name, ch->name ? "uri" : "name");
                vb_lv_close(conn);
                return NULL;
            }
            if (vb_lv_conn_host(conn, ch->name)) {
                g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                            "host '%s' is configured twice", ch->name);
                vb_lv_close(conn);
                return NULL;
            }
            g_ptr_array_add(conn->hosts, vb_lv_host_new(config, pool, ch));
        }
    }
    /* Unreachable hosts are not an error: they show as down. */
    vb_lv_foreach_host_parallel(conn, vb_lv_open_one, NULL);
    return conn;
}

static void
vb_lv_close(VbConn *conn)
{
    if (!conn)
        return;
    if (conn->hosts)
        g_ptr_array_unref(conn->hosts);
    g_free(conn);
}

static double
vb_lv_now(VbConn *conn)
{
    return (double) g_get_monotonic_time() / G_USEC_PER_SEC;
}

static void
vb_lv_sleep(VbConn *conn, double seconds)
{
    if (seconds > 0)
        g_usleep((gulong) (seconds * G_USEC_PER_SEC));
}

const VbDriverOps vb_driver_libvirt = {
    .name = "libvirt",
    .open = vb_lv_open,
    .close = vb_lv_close,
    .snapshot = vb_lv_snapshot,
    .sample = vb_lv_sample,
    .migrate_start = vb_lv_migrate_start,
    .job_poll = vb_lv_job_poll,
    .job_abort = vb_lv_job_abort,
    .job_free = vb_lv_job_free,
    .locate = vb_lv_locate,
    .now = vb_lv_now,
    .sleep = vb_lv_sleep,
    .job_find = vb_lv_job_find,
};
