/*
 * libvirt-conn.c: the libvirt driver's connections, and its ops table.
 *
 * One connection per configured host. libvirt has no timeout for opening a
 * connection or for a call (an SSH prompt, a firewalled port or a libvirtd
 * stopped with SIGSTOP can hang for minutes, forever for the latter), so:
 *  - a connection attempt runs in a worker thread and callers stop waiting
 *    after the host's timeout; at most one attempt per host is in flight (a
 *    hung one is joined, never doubled), and after a failure the next one
 *    waits an exponential backoff (vb_lv_backoff_seconds);
 *  - every call the ops make on a host runs in a worker of a fixed pool
 *    (libvirt-calls.c: vb_lv_host_call, vb_lv_hosts_call) with a deadline; a
 *    host that misses it is "not answering" and later calls fail at once,
 *    without a worker, until the hung call returns. A worker that opens a
 *    connection does it in its own thread (vb_lv_host_connect_here); other
 *    callers (vb_lv_host_connect) start the attempt in a thread of its own.
 * So a hung host costs at most one deadline per caller, and a bounded number
 * of threads and sockets however long it hangs. libvirt's keepalive needs an
 * event loop: the default one is registered once and runs in a dedicated
 * thread for the life of the process.
 *
 * Invariants: a host's `conn` is either NULL (down, `reason` says why) or a
 * connection that was alive when last checked; `attempt` is NULL whenever
 * `conn` is set; `hung` counts abandoned calls still in libvirt; every error
 * leaving this folder is a VB_ERROR naming the host, with libvirt's own
 * message.
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

/* One connection attempt, shared by its worker thread and whoever waits for
 * it (reference counted). The worker stores its result; the last reference
 * dropped closes a connection nobody took. */
typedef struct _VbLvAttempt {
    gatomicrefcount refs;
    GMutex lock;
    GCond cond;
    char *uri;
    gint64 started_us;    /* monotonic */
    gboolean done;        /* the worker finished */
    virConnectPtr conn;   /* the result, or NULL */
    char *message;        /* libvirt's error, when conn is NULL */
} VbLvAttempt;

static VbLvAttempt *
vb_lv_attempt_ref(VbLvAttempt *attempt)
{
    g_atomic_ref_count_inc(&attempt->refs);
    return attempt;
}

static void
vb_lv_attempt_unref(VbLvAttempt *attempt)
{
    if (!attempt || !g_atomic_ref_count_dec(&attempt->refs))
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

/* Opens the connection of @attempt in the calling thread, however long
 * libvirt takes, and wakes whoever waits for it. */
static void
vb_lv_attempt_run(VbLvAttempt *attempt)
{
    virConnectPtr conn = virConnectOpenAuth(attempt->uri, &vb_lv_auth, 0);
    char *message = conn ? NULL : g_strdup(virGetLastErrorMessage());

    virResetLastError();
    g_mutex_lock(&attempt->lock);
    attempt->done = TRUE;
    attempt->conn = conn;
    attempt->message = message;
    g_cond_broadcast(&attempt->cond);
    g_mutex_unlock(&attempt->lock);
}

static gpointer
vb_lv_attempt_thread(gpointer data)
{
    VbLvAttempt *attempt = data;

    vb_lv_attempt_run(attempt);
    vb_lv_attempt_unref(attempt);
    return NULL;
}

/* A new attempt, not yet running (transfer full). */
static VbLvAttempt *
vb_lv_attempt_new(const char *uri)
{
    VbLvAttempt *attempt = g_new0(VbLvAttempt, 1);

    vb_lv_global_init();
    g_atomic_ref_count_init(&attempt->refs);
    g_mutex_init(&attempt->lock);
    g_cond_init(&attempt->cond);
    attempt->uri = g_strdup(uri);
    attempt->started_us = g_get_monotonic_time();
    return attempt;
}

/* Starts an attempt in its own thread (transfer full: one reference is the
 * caller's, the worker holds another). */
static VbLvAttempt *
vb_lv_attempt_start(const char *uri)
{
    VbLvAttempt *attempt = vb_lv_attempt_new(uri);

    g_thread_unref(g_thread_new("vb-libvirt-connect", vb_lv_attempt_thread,
                                vb_lv_attempt_ref(attempt)));
    return attempt;
}

/* Waits for @attempt until @deadline_us (monotonic); TRUE when it is done. */
static gboolean
vb_lv_attempt_wait(VbLvAttempt *attempt, gint64 deadline_us)
{
    gboolean done;

    g_mutex_lock(&attempt->lock);
    while (!attempt->done && g_cond_wait_until(&attempt->cond, &attempt->lock, deadline_us))
        ;
    done = attempt->done;
    g_mutex_unlock(&attempt->lock);
    return done;
}

static void
vb_lv_keepalive(const char *host, virConnectPtr conn)
{
    if (virConnectSetKeepAlive(conn, VB_LV_KEEPALIVE_INTERVAL, VB_LV_KEEPALIVE_COUNT) < 0) {
        g_debug("%s: no keepalive: %s", host, virGetLastErrorMessage());
        virResetLastError();
    }
}

static void
vb_lv_attempt_error(const VbLvAttempt *attempt, const char *host, GError **error)
{
    g_set_error(error, VB_ERROR, VB_ERROR_CONNECT, "%s: cannot connect: %s", host,
                attempt->message && *attempt->message ? attempt->message
                                                      : "unknown libvirt error");
}

virConnectPtr
vb_lv_open_uri(const char *host, const char *uri, guint timeout_seconds, GError **error)
{
    VbLvAttempt *attempt = vb_lv_attempt_start(uri);
    virConnectPtr conn = NULL;

    if (!vb_lv_attempt_wait(attempt, attempt->started_us +
                                         (gint64) MAX(timeout_seconds, 1) * G_USEC_PER_SEC))
        g_set_error(error, VB_ERROR, VB_ERROR_TIMEOUT, "%s: cannot connect: timed out after %u s",
                    host, MAX(timeout_seconds, 1));
    else if (!(conn = g_steal_pointer(&attempt->conn)))
        vb_lv_attempt_error(attempt, host, error);
    vb_lv_attempt_unref(attempt); /* a late connection is closed by the worker's unref */
    if (conn)
        vb_lv_keepalive(host, conn);
    return conn;
}

/* ------------------------------------------------------------ hosts */

VbLvHost *
vb_lv_host_ref(VbLvHost *host)
{
    g_atomic_ref_count_inc(&host->refs);
    return host;
}

void
vb_lv_host_unref(VbLvHost *host)
{
    if (!host || !g_atomic_ref_count_dec(&host->refs))
        return;
    vb_lv_defs_close(host->defs); /* before the connection its events are on */
    if (host->conn)
        virConnectClose(host->conn);
    vb_lv_attempt_unref(host->attempt);
    vb_lv_pool_unref(host->workers);
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

guint
vb_lv_backoff_seconds(guint failures)
{
    guint seconds = 1;

    for (guint i = 1; i < failures && seconds < VB_LV_BACKOFF_MAX_SECONDS; i++)
        seconds *= 2;
    return MIN(seconds, VB_LV_BACKOFF_MAX_SECONDS);
}

/* Takes the result of the host's finished attempt (host lock held). */
static void
vb_lv_host_settle_attempt(VbLvHost *host)
{
    VbLvAttempt *attempt = g_steal_pointer(&host->attempt);
    g_autoptr(GError) error = NULL;

    g_free(host->reason);
    host->reason = NULL;
    host->conn = g_steal_pointer(&attempt->conn);
    if (host->conn) {
        host->failures = 0;
        host->conn_gen++; /* what was kept from the old connection is stale */
        vb_lv_keepalive(host->name, host->conn);
    } else {
        host->failures++;
        host->retry_at_us = g_get_monotonic_time() +
                            (gint64) vb_lv_backoff_seconds(host->failures) * G_USEC_PER_SEC;
        vb_lv_attempt_error(attempt, host->name, &error);
        host->reason = g_strdup(error->message);
    }
    vb_lv_attempt_unref(attempt);
}

/* Why @host has no connection now (host lock held): the attempt in flight
 * has not answered, or the last one failed and the next waits its turn. */
static void
vb_lv_host_connect_error(VbLvHost *host, GError **error)
{
    gint64 now = g_get_monotonic_time();

    if (host->attempt) {
        g_free(host->reason);
        host->reason = g_strdup_printf("%s: cannot connect: timed out after %u s", host->name,
                                       MAX(host->timeout_seconds, 1));
        g_set_error(error, VB_ERROR, VB_ERROR_TIMEOUT, "%s (no answer for %.0f s)",
                    host->reason, (double) (now - host->attempt->started_us) / G_USEC_PER_SEC);
    } else {
        g_set_error(error, VB_ERROR, VB_ERROR_CONNECT, "%s (next try in %.0f s)",
                    host->reason ? host->reason : host->name,
                    MAX(0.0, (double) (host->retry_at_us - now) / G_USEC_PER_SEC));
    }
}

/* At most one attempt per host is in flight: a caller joins the one under
 * way (waiting until its own timeout from the attempt's start, so a hung
 * attempt costs later callers nothing), and after a failure the next attempt
 * waits its backoff. A hung attempt is never abandoned: when the host
 * answers at last, its connection becomes the host's. A new attempt runs in
 * a thread of its own, or in the calling thread when @connecting is given
 * (a worker of the pool, whose caller enforces the deadline @connecting is
 * told before the attempt starts). */
static virConnectPtr
vb_lv_host_connect_full(VbLvHost *host, VbLvConnecting connecting, gpointer data,
                        GError **error)
{
    VbLvAttempt *attempt;
    gboolean mine = FALSE;
    virConnectPtr conn = NULL;

    g_mutex_lock(&host->lock);
    if (host->conn && virConnectIsAlive(host->conn) != 1) {
        g_debug("%s: connection lost, reconnecting", host->name);
        virConnectClose(g_steal_pointer(&host->conn));
        virResetLastError();
    }
    if (!host->conn && !host->attempt && g_get_monotonic_time() >= host->retry_at_us) {
        mine = connecting != NULL;
        host->attempt = mine ? vb_lv_attempt_new(host->uri) : vb_lv_attempt_start(host->uri);
    }
    attempt = !host->conn && host->attempt ? vb_lv_attempt_ref(host->attempt) : NULL;
    g_mutex_unlock(&host->lock);
    if (mine) {
        connecting(data, attempt->started_us +
                             (gint64) MAX(host->timeout_seconds, 1) * G_USEC_PER_SEC);
        vb_lv_attempt_run(attempt);
    } else if (attempt) {
        vb_lv_attempt_wait(attempt, attempt->started_us +
                                        (gint64) MAX(host->timeout_seconds, 1) * G_USEC_PER_SEC);
    }
    g_mutex_lock(&host->lock);
    if (attempt && host->attempt == attempt && attempt->done)
        vb_lv_host_settle_attempt(host);
    if (host->conn)
        conn = virConnectRef(host->conn) == 0 ? host->conn : NULL;
    else
        vb_lv_host_connect_error(host, error);
    g_mutex_unlock(&host->lock);
    vb_lv_attempt_unref(attempt);
    return conn;
}

virConnectPtr
vb_lv_host_connect(VbLvHost *host, GError **error)
{
    return vb_lv_host_connect_full(host, NULL, NULL, error);
}

virConnectPtr
vb_lv_host_connect_here(VbLvHost *host, VbLvConnecting connecting, gpointer data,
                        GError **error)
{
    g_assert(connecting != NULL);
    return vb_lv_host_connect_full(host, connecting, data, error);
}

gboolean
vb_lv_host_connect_pending(VbLvHost *host, GError **error)
{
    gint64 now = g_get_monotonic_time();
    gboolean pending = FALSE;

    g_mutex_lock(&host->lock);
    if (!host->conn && host->attempt) {
        g_mutex_lock(&host->attempt->lock);
        pending = !host->attempt->done &&
                  now >= host->attempt->started_us +
                             (gint64) MAX(host->timeout_seconds, 1) * G_USEC_PER_SEC;
        g_mutex_unlock(&host->attempt->lock);
    } else if (!host->conn) {
        pending = now < host->retry_at_us;
    }
    if (pending)
        vb_lv_host_connect_error(host, error);
    g_mutex_unlock(&host->lock);
    return pending;
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

/* ------------------------------------------------------------ open/close */

static VbLvHost *
vb_lv_host_new(VbConn *conn, const VbConfig *config, const VbConfigPool *pool,
               const VbConfigHost *ch, guint refresh_every)
{
    VbLvHost *host = g_new0(VbLvHost, 1);

    g_atomic_ref_count_init(&host->refs);
    g_mutex_init(&host->lock);
    host->name = g_strdup(ch->name);
    host->uri = g_strdup(ch->uri);
    host->pool = g_strdup(pool->name);
    host->shared_storage = pool->shared_storage;
    host->labels = g_strdupv(ch->labels);
    host->migration_host = g_strdup(ch->migration_host);
    host->cpu_vendor = g_strdup(ch->cpu_vendor);
    host->timeout_seconds = config->connect_timeout_seconds ? config->connect_timeout_seconds : 10;
    host->workers = vb_lv_pool_ref(conn->workers);
    host->defs = vb_lv_defs_new(conn->hosts->len, refresh_every);
    return host;
}

/* Connecting is all the call does (in its worker, before this runs). */
static gpointer
vb_lv_open_one(VbLvHost *host, virConnectPtr conn, gpointer arg, GError **error)
{
    return GINT_TO_POINTER(TRUE);
}

static void vb_lv_close(VbConn *conn);

static VbConn *
vb_lv_open(const VbConfig *config, GError **error)
{
    VbConn *conn = g_new0(VbConn, 1);
    guint refresh_every = vb_lv_defs_refresh_every();

    vb_lv_global_init();
    conn->hosts = g_ptr_array_new_with_free_func((GDestroyNotify) vb_lv_host_unref);
    conn->workers = vb_lv_pool_new(config->max_parallel_hosts ? config->max_parallel_hosts
                                                           : VB_CONFIG_MAX_PARALLEL_HOSTS_DEFAULT);
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
            g_ptr_array_add(conn->hosts, vb_lv_host_new(conn, config, pool, ch, refresh_every));
        }
    }
    /* Unreachable hosts are not an error: they show as down. */
    {
        g_autofree gpointer *results = g_new0(gpointer, conn->hosts->len + 1);
        g_autofree GError **errors = g_new0(GError *, conn->hosts->len + 1);

        vb_lv_hosts_call(conn, vb_lv_open_one, NULL, NULL, results, errors);
        for (guint i = 0; i < conn->hosts->len; i++)
            g_clear_error(&errors[i]);
    }
    return conn;
}

static void
vb_lv_close(VbConn *conn)
{
    if (!conn)
        return;
    vb_lv_pool_close(conn->workers);
    if (conn->hosts)
        g_ptr_array_unref(conn->hosts);
    vb_lv_pool_unref(conn->workers);
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
    .cold_cleanup = vb_lv_cold_cleanup,
};
