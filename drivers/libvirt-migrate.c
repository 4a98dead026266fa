/*
 * libvirt-migrate.c: moving guests between real hosts, and finding them.
 *
 * A live move is one virDomainMigrateToURI3 call (peer-to-peer: the source's
 * libvirtd talks to the destination's, so virt-balancer may lose its own
 * connection without stranding the guest), run in a worker thread so that
 * migrate_start returns at once; job_poll reads libvirt's job statistics on
 * the source while the thread waits. A cold move (shut-off guest) defines the
 * guest on the destination first and undefines it on the source only after
 * that succeeded, so a failure at any step leaves it defined somewhere.
 *
 * A VbJob is shared by the caller and its worker (reference counted): the
 * caller may free it while the worker still runs, and the worker holds its
 * own references to the libvirt objects it uses, so closing the driver's
 * connection never pulls them from under it.
 */
#include "config.h"

#include <string.h>

#include "drivers/libvirt-priv.h"

#define VB_BYTES_PER_MIB (1024.0 * 1024.0)
/* Post-copy is switched on when pre-copy has sent memory this many times
 * over without converging. */
#define VB_LV_POSTCOPY_AFTER_ITERATIONS 3
/* An abort that finds no job yet is retried this often, this far apart. */
#define VB_LV_ABORT_RETRIES 50
#define VB_LV_ABORT_RETRY_US 100000
/* How often a migration's statistics are read. */
#define VB_LV_WATCH_US 500000

struct _VbJob {
    gatomicrefcount refs;
    GMutex lock;              /* guards done, ok, aborted, message, postcopy_started, progress */
    GCond cond;               /* signalled when done */
    char *vm, *from, *to;
    gboolean live;
    gboolean post_copy;       /* switch to post-copy if pre-copy does not converge */
    gboolean start_after;     /* cold: start on the destination afterwards */
    gint64 start_us;          /* monotonic */
    virDomainPtr dom;         /* on the source (own reference) */
    char *dconnuri;           /* the destination's libvirt URI */
    char *src_uri;            /* the source's, for the worker's own connection */
    gboolean shared_storage;  /* cold: the disks need no copy */
    guint timeout_seconds;    /* for opening it */
    VbMigrationSettings settings; /* the policy's, copied */
    gboolean copy_storage;    /* live: copy non-shared disks */
    gboolean has_migration_host; /* the destination gives migration_host */
    char *migration_host;     /* ... the address for the tcp:// URI */
    virTypedParameterPtr params;
    int nparams;
    unsigned int flags;
    gboolean attached;        /* found in flight by job_find: no worker thread */
    gboolean done, ok, aborted, postcopy_started;
    char *message;
    double progress;          /* latest figures read by the watcher */
    guint64 remaining_mib;
};

static void vb_lv_job_watch(VbJob *job);

static VbJob *
vb_lv_job_alloc(void)
{
    VbJob *job = g_new0(VbJob, 1);

    g_atomic_ref_count_init(&job->refs);
    g_mutex_init(&job->lock);
    g_cond_init(&job->cond);
    return job;
}

static VbJob *
vb_lv_job_ref(VbJob *job)
{
    g_atomic_ref_count_inc(&job->refs);
    return job;
}

static void
vb_lv_job_unref(VbJob *job)
{
    if (!job || !g_atomic_ref_count_dec(&job->refs))
        return;
    if (job->dom)
        virDomainFree(job->dom);
    virTypedParamsFree(job->params, job->nparams);
    g_free(job->vm);
    g_free(job->from);
    g_free(job->to);
    g_free(job->dconnuri);
    g_free(job->src_uri);
    g_free(job->migration_host);
    g_free(job->message);
    g_mutex_clear(&job->lock);
    g_cond_clear(&job->cond);
    g_free(job);
}

void
vb_lv_job_free(VbJob *job)
{
    vb_lv_job_unref(job);
}

/* Records the outcome; @message is libvirt's reason (NULL: its last error). */
static void
vb_lv_job_finish(VbJob *job, gboolean ok, const char *what, const char *message)
{
    if (!message)
        message = virGetLastErrorMessage();

    g_mutex_lock(&job->lock);
    job->done = TRUE;
    job->ok = ok;
    if (!ok)
        job->message = g_strdup_printf("%s: %s '%s' to %s: %s", job->from, what, job->vm, job->to,
                                       message && *message ? message : "unknown libvirt error");
    g_cond_broadcast(&job->cond);
    g_mutex_unlock(&job->lock);
    virResetLastError();
}

/* Post-copy resume attempts after a failed post-copy, this far apart. */
#define VB_LV_POSTCOPY_RESUME_TRIES 3
#define VB_LV_POSTCOPY_RESUME_PAUSE_US 2000000

static gboolean
vb_lv_job_in_postcopy(VbJob *job)
{
    gboolean started;

    g_mutex_lock(&job->lock);
    started = job->postcopy_started;
    g_mutex_unlock(&job->lock);
    return started;
}

/* The migration of @dom failed after it switched to post-copy: the guest
 * is paused on both hosts (libvirt >= 8.5 keeps it so) and neither an abort
 * nor a retry from scratch can bring it back; only resuming the post-copy
 * can. Tried a few times; on failure @ret_message says what a person must
 * do. A guest no longer paused that way (it ran on, or moved) is left. */
static gboolean
vb_lv_postcopy_recover(VbJob *job, virDomainPtr dom, char **ret_message)
{
    g_autofree char *first = g_strdup(virGetLastErrorMessage());

    for (guint i = 0; i < VB_LV_POSTCOPY_RESUME_TRIES; i++) {
        int state = VIR_DOMAIN_NOSTATE, reason = 0;

        virResetLastError();
        if (virDomainGetState(dom, &state, &reason, 0) < 0 || state != VIR_DOMAIN_PAUSED ||
            reason != VIR_DOMAIN_PAUSED_POSTCOPY_FAILED)
            break;
        if (virDomainMigrateToURI3(dom, job->dconnuri, job->params, job->nparams,
                                   job->flags | VIR_MIGRATE_POSTCOPY |
                                       VIR_MIGRATE_POSTCOPY_RESUME) == 0)
            return TRUE;
        g_debug("%s: post-copy resume of '%s' failed: %s", job->from, job->vm,
                virGetLastErrorMessage());
        g_usleep(VB_LV_POSTCOPY_RESUME_PAUSE_US);
    }
    *ret_message = g_strdup_printf("%s; post-copy could not be resumed: if '%s' is paused on "
                                   "both hosts, resume it with virsh migrate --postcopy "
                                   "--postcopy-resume (the next attempt tries that too)",
                                   first && *first ? first : "post-copy failed", job->vm);
    virResetLastError();
    return FALSE;
}

/* A move runs on connections of its own: libvirt answers nothing else on a
 * connection while a migration call (or a volume stream) is in flight on it,
 * and the hosts' shared connections must stay free for job_poll, job_abort,
 * samples and snapshots. */
static gboolean
vb_lv_move(VbJob *job, const char **ret_what, char **ret_message)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(virConnect) sconn = vb_lv_open_uri(job->from, job->src_uri, job->timeout_seconds,
                                                 &error);
    g_autoptr(virConnect) dconn = NULL;
    g_autoptr(virDomain) dom = NULL;
    unsigned char uuid[VIR_UUID_BUFLEN];
    gboolean ok;

    if (sconn && !job->live)
        dconn = vb_lv_open_uri(job->to, job->dconnuri, job->timeout_seconds, &error);
    if (!sconn || (!job->live && !dconn)) {
        *ret_message = g_strdup(error->message);
        return FALSE;
    }
    if (virDomainGetUUID(job->dom, uuid) < 0 || !(dom = virDomainLookupByUUID(sconn, uuid)))
        ok = FALSE;
    else if (!job->live)
        ok = vb_lv_cold_move(dom, dconn, job->shared_storage, job->start_after, ret_what,
                             ret_message);
    else {
        ok = virDomainMigrateToURI3(dom, job->dconnuri, job->params, job->nparams,
                                    job->flags) == 0;
        if (!ok && vb_lv_job_in_postcopy(job))
            ok = vb_lv_postcopy_recover(job, dom, ret_message);
    }
    /* Now: freeing the connections below resets libvirt's last error. */
    if (!ok && !*ret_message)
        *ret_message = g_strdup(virGetLastError() ? virGetLastErrorMessage()
                                                  : "unknown libvirt error");
    return ok;
}

static gpointer
vb_lv_job_thread(gpointer data)
{
    VbJob *job = data;
    const char *what = "cannot migrate";
    g_autofree char *message = NULL;
    gboolean ok, aborted;

    g_mutex_lock(&job->lock);
    aborted = job->aborted;
    g_mutex_unlock(&job->lock);
    if (aborted)
        ok = FALSE, message = g_strdup("aborted before it started");
    else
        ok = vb_lv_move(job, &what, &message);
    vb_lv_job_finish(job, ok, what, message);
    vb_lv_job_unref(job);
    return NULL;
}

/* ------------------------------------------------------------ starting */

unsigned int
vb_lv_migrate_flags(gboolean copy_storage, const VbMigrationSettings *s, int state, int reason)
{
    unsigned int flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
                         VIR_MIGRATE_UNDEFINE_SOURCE;

    if (copy_storage)
        flags |= VIR_MIGRATE_NON_SHARED_DISK;
    if (s && s->compression)
        flags |= VIR_MIGRATE_COMPRESSED;
    if (s && s->auto_converge)
        flags |= VIR_MIGRATE_AUTO_CONVERGE;
    if (s && s->post_copy)
        flags |= VIR_MIGRATE_POSTCOPY;
    /* A failed post-copy leaves the guest paused on both hosts, its memory
     * split between them: it cannot start afresh, only be resumed (whatever
     * the policy says now). */
    if (state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_POSTCOPY_FAILED)
        flags |= VIR_MIGRATE_POSTCOPY | VIR_MIGRATE_POSTCOPY_RESUME;
    return flags;
}

static gboolean
vb_lv_job_params(VbJob *job, GError **error)
{
    const VbMigrationSettings *s = &job->settings;
    int max = 0;
    g_autofree char *uri = NULL;

    int state = VIR_DOMAIN_NOSTATE, reason = 0;

    if (virDomainGetState(job->dom, &state, &reason, 0) < 0)
        return vb_lv_error(error, VB_ERROR_MIGRATION, job->from, "cannot read the guest's state");
    job->flags = vb_lv_migrate_flags(job->copy_storage, s, state, reason);
    if (job->flags & VIR_MIGRATE_POSTCOPY_RESUME)
        job->postcopy_started = TRUE; /* resumed: already in post-copy */
    /* No port: the destination picks one from its migration port range. */
    if (job->migration_host) {
        uri = g_strdup_printf("tcp://%s", job->migration_host);
        if (virTypedParamsAddString(&job->params, &job->nparams, &max, VIR_MIGRATE_PARAM_URI,
                                    uri) < 0)
            return vb_lv_error(error, VB_ERROR_MIGRATION, job->to, "bad migration URI");
    }
    if (s->bandwidth_mib_s > 0 &&
        virTypedParamsAddULLong(&job->params, &job->nparams, &max, VIR_MIGRATE_PARAM_BANDWIDTH,
                                (unsigned long long) s->bandwidth_mib_s) < 0)
        return vb_lv_error(error, VB_ERROR_MIGRATION, job->to, "bad bandwidth");
    return TRUE;
}

/* Finds the guest on the source and checks its state (a call with a
 * deadline on the source: @arg is the job, which it fills). */
static gpointer
vb_lv_job_check(VbLvHost *src, virConnectPtr sconn, gpointer arg, GError **error)
{
    VbJob *job = arg;
    int active;

    job->dom = virDomainLookupByName(sconn, job->vm);
    if (!job->dom) {
        vb_lv_error(error, VB_ERROR_NOT_FOUND, src->name, "cannot find the guest to migrate");
        return NULL;
    }
    active = virDomainIsActive(job->dom);
    if (active < 0 || (active == 1) != job->live) {
        if (active < 0)
            vb_lv_error(error, VB_ERROR_MIGRATION, src->name, "cannot read the guest's state");
        else
            g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION, "%s: guest '%s' is %s: a %s move needs it %s",
                        src->name, job->vm, active ? "running" : "shut off",
                        job->live ? "live" : "cold", job->live ? "running" : "shut off");
        return NULL;
    }
    if (job->live && !vb_lv_job_params(job, error))
        return NULL;
    return vb_lv_job_ref(job);
}

/* Checks the request against the source and prepares a job (transfer full). */
static VbJob *
vb_lv_job_new(VbConn *conn, const VbMigrationRequest *req, GError **error)
{
    VbLvHost *src = vb_lv_conn_host(conn, req->from), *dst = vb_lv_conn_host(conn, req->to);
    g_autoptr(GError) local = NULL;
    VbJob *job, *checked;

    if (!src || !dst || src == dst) {
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND, "cannot migrate '%s' from %s to %s: %s",
                    req->vm, req->from, req->to,
                    src == dst && src ? "same host" : "unknown host");
        return NULL;
    }
    job = vb_lv_job_alloc();
    job->vm = g_strdup(req->vm);
    job->from = g_strdup(src->name);
    job->to = g_strdup(dst->name);
    job->live = req->live;
    job->copy_storage = req->copy_storage;
    if (req->settings)
        job->settings = *req->settings;
    job->migration_host = g_strdup(dst->migration_host);
    job->src_uri = g_strdup(src->uri);
    job->dconnuri = g_strdup(dst->uri);
    /* Cold moves copy local disks only when asked to (copy_storage). */
    job->shared_storage = (src->shared_storage && dst->shared_storage) || !req->copy_storage;
    job->timeout_seconds = src->timeout_seconds;
    job->post_copy = job->settings.post_copy;
    job->start_after = job->settings.start_after_cold_move;
    checked = vb_lv_host_call(src, vb_lv_job_check, vb_lv_job_ref(job),
                              (GDestroyNotify) vb_lv_job_unref, (GDestroyNotify) vb_lv_job_unref,
                              0, error);
    vb_lv_job_unref(job);
    if (!checked)
        return NULL;
    if (!req->live) {
        virConnectPtr dconn = vb_lv_host_connect(dst, error); /* reachable, before starting */

        if (!dconn)
            return vb_lv_job_unref(checked), NULL;
        virConnectClose(dconn);
    }
    return checked;
}

VbJob *
vb_lv_migrate_start(VbConn *conn, const VbMigrationRequest *req, GError **error)
{
    VbJob *job = vb_lv_job_new(conn, req, error);

    if (!job)
        return NULL;
    job->start_us = g_get_monotonic_time();
    g_thread_unref(g_thread_new("vb-libvirt-migrate", vb_lv_job_thread, vb_lv_job_ref(job)));
    if (job->live)
        vb_lv_job_watch(job);
    return job;
}

/* ------------------------------------------------------------ progress */

static gboolean vb_lv_job_attached_ended(VbJob *job);

/* Reads the job's statistics once into the job's cached figures, and
 * switches to post-copy when pre-copy does not converge. */
static void
vb_lv_job_watch_once(VbJob *job)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0, type = 0;
    unsigned long long total = 0, processed = 0, remaining = 0, iteration = 0;

    if (virDomainGetJobStats(job->dom, &type, &params, &nparams, 0) < 0) {
        /* Finished in between: the worker says how; without a worker, the
         * guest gone from the source (undefined there) says it moved. */
        if (job->attached && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
            vb_lv_job_attached_ended(job);
        virResetLastError();
        return;
    }
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL, &total);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_PROCESSED, &processed);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_REMAINING, &remaining);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_ITERATION, &iteration);
    virTypedParamsFree(params, nparams);
    g_mutex_lock(&job->lock);
    /* Zero pages are skipped, not "processed": what is no longer remaining
     * is what is done. Before the first pass starts nothing is known. */
    if (total > 0 && (processed > 0 || remaining > 0))
        job->progress = CLAMP((double) (total - MIN(remaining, total)) / (double) total, 0.0, 0.99);
    job->remaining_mib = (guint64) ((double) remaining / VB_BYTES_PER_MIB);
    g_mutex_unlock(&job->lock);
    if (job->post_copy && !vb_lv_job_in_postcopy(job) &&
        iteration >= VB_LV_POSTCOPY_AFTER_ITERATIONS) {
        /* Marked before the switch: a failure right after it must be
         * recovered, never taken for a failed pre-copy. */
        g_mutex_lock(&job->lock);
        job->postcopy_started = TRUE;
        g_mutex_unlock(&job->lock);
        if (virDomainMigrateStartPostCopy(job->dom, 0) < 0) {
            g_mutex_lock(&job->lock);
            job->postcopy_started = FALSE;
            g_mutex_unlock(&job->lock);
        }
    }
    virResetLastError();
    if (job->attached && type == VIR_DOMAIN_JOB_NONE)
        vb_lv_job_attached_ended(job);
}

/* Reads the statistics of a live migration every VB_LV_WATCH_US until it
 * ends. libvirt may hold a statistics query for seconds while a migration
 * sets up, so job_poll never asks libvirt itself: it reads what this thread
 * cached, and returns at once. */
static gpointer
vb_lv_job_watch_thread(gpointer data)
{
    VbJob *job = data;

    g_mutex_lock(&job->lock);
    while (!job->done) {
        gint64 deadline = g_get_monotonic_time() + VB_LV_WATCH_US;

        g_mutex_unlock(&job->lock);
        vb_lv_job_watch_once(job);
        g_mutex_lock(&job->lock);
        while (!job->done && g_cond_wait_until(&job->cond, &job->lock, deadline))
            ;
    }
    g_mutex_unlock(&job->lock);
    vb_lv_job_unref(job);
    return NULL;
}

static void
vb_lv_job_watch(VbJob *job)
{
    g_thread_unref(g_thread_new("vb-libvirt-watch", vb_lv_job_watch_thread, vb_lv_job_ref(job)));
}

/* ------------------------------------------------------- re-attaching */

/* TRUE when the migration of an attached job (no worker) has ended, and then
 * records how: the guest gone from its source (or no longer running there)
 * means it moved; still running there means it failed or was aborted. */
static gboolean
vb_lv_job_attached_ended(VbJob *job)
{
    int type = VIR_DOMAIN_JOB_NONE, active;
    virTypedParameterPtr params = NULL;
    int nparams = 0;

    if (virDomainGetJobStats(job->dom, &type, &params, &nparams, 0) == 0) {
        virTypedParamsFree(params, nparams);
        if (type != VIR_DOMAIN_JOB_NONE)
            return FALSE;
    }
    active = virDomainIsActive(job->dom);
    if (active < 0 && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN) {
        virResetLastError(); /* the source cannot say now: ask again later */
        return FALSE;
    }
    virResetLastError();
    g_mutex_lock(&job->lock);
    job->done = TRUE;
    job->ok = active != 1;
    if (active == 1)
        job->message = g_strdup_printf("%s: the migration of '%s' ended and it still runs here",
                                       job->from, job->vm);
    g_cond_broadcast(&job->cond);
    g_mutex_unlock(&job->lock);
    return TRUE;
}

/* An outgoing migration of @dom, if one runs: its elapsed seconds. */
static gboolean
vb_lv_outgoing_migration(virDomainPtr dom, double *ret_elapsed)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0, type = VIR_DOMAIN_JOB_NONE, operation = 0;
    unsigned long long elapsed_ms = 0;

    if (virDomainIsActive(dom) != 1 || virDomainGetJobStats(dom, &type, &params, &nparams, 0) < 0) {
        virResetLastError();
        return FALSE;
    }
    virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &operation);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_TIME_ELAPSED, &elapsed_ms);
    virTypedParamsFree(params, nparams);
    *ret_elapsed = (double) elapsed_ms / 1000.0;
    return type != VIR_DOMAIN_JOB_NONE && operation == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
}

/* The guest @arg on this host, when an outgoing migration of it runs here
 * (a call with a deadline; transfer full VbJob, attached). Not here is an
 * error (VB_ERROR_NOT_FOUND) the caller ignores. */
static gpointer
vb_lv_job_find_call(VbLvHost *host, virConnectPtr conn, gpointer arg, GError **error)
{
    const char *vm = arg;
    virDomainPtr dom = virDomainLookupByName(conn, vm);
    double elapsed = 0;
    VbJob *job;

    virResetLastError();
    if (!dom || !vb_lv_outgoing_migration(dom, &elapsed)) {
        if (dom)
            virDomainFree(dom);
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND, "%s: no migration of '%s'", host->name,
                    vm);
        return NULL;
    }
    job = vb_lv_job_alloc();
    job->vm = g_strdup(vm);
    job->from = g_strdup(host->name);
    job->to = g_strdup("its destination");
    job->live = TRUE;
    job->attached = TRUE;
    job->dom = dom;
    job->start_us = g_get_monotonic_time() - (gint64) (elapsed * G_USEC_PER_SEC);
    return job;
}

/* A host that does not answer cannot say whether a migration leaves it: the
 * caller is told (the reconciler then leaves the move for later). */
VbJob *
vb_lv_job_find(VbConn *conn, const char *vm, GError **error)
{
    guint n = conn->hosts->len;
    g_autofree gpointer *results = g_new0(gpointer, n + 1);
    g_autofree GError **errors = g_new0(GError *, n + 1);
    VbJob *found = NULL;

    vb_lv_hosts_call(conn, vb_lv_job_find_call, vm, (GDestroyNotify) vb_lv_job_unref, results,
                     errors);
    for (guint i = 0; i < n; i++) {
        if (results[i] && !found)
            found = results[i];
        else
            vb_lv_job_unref(results[i]);
        if (errors[i] && !g_error_matches(errors[i], VB_ERROR, VB_ERROR_NOT_FOUND) && !found &&
            error && !*error)
            g_propagate_error(error, g_steal_pointer(&errors[i]));
        g_clear_error(&errors[i]);
    }
    if (found) {
        g_clear_error(error);
        vb_lv_job_watch(found);
    }
    return found;
}

gboolean
vb_lv_job_poll(VbConn *conn, VbJob *job, VbJobInfo *ret_info, GError **error)
{
    VbJobInfo info = { 0 };

    info.elapsed_seconds = (double) (g_get_monotonic_time() - job->start_us) / G_USEC_PER_SEC;
    g_mutex_lock(&job->lock);
    if (job->done) {
        info.state = job->ok ? VB_JOB_COMPLETED : job->aborted ? VB_JOB_ABORTED : VB_JOB_FAILED;
        info.progress = job->ok ? 1.0 : job->progress;
        info.message = g_strdup(job->message);
    } else {
        info.state = VB_JOB_RUNNING;
        info.progress = job->progress;
        info.remaining_mib = job->remaining_mib;
    }
    g_mutex_unlock(&job->lock);
    *ret_info = info;
    return TRUE;
}

static gboolean
vb_lv_job_is_done(VbJob *job)
{
    gboolean done;

    g_mutex_lock(&job->lock);
    done = job->done;
    g_mutex_unlock(&job->lock);
    return done;
}

/* The abort itself, in a call with a deadline on the source (@arg: the
 * job). The worker may not have reached libvirt yet when an abort comes
 * ("no job is active"): the abort is retried for a while in case the call
 * is already on its way. */
static gpointer
vb_lv_job_abort_call(VbLvHost *host, virConnectPtr conn, gpointer arg, GError **error)
{
    VbJob *job = arg;

    for (guint attempt = 0; !vb_lv_job_is_done(job); attempt++) {
        if (virDomainAbortJob(job->dom) == 0)
            return GINT_TO_POINTER(TRUE);
        if (job->attached && (virGetLastErrorCode() == VIR_ERR_OPERATION_INVALID ||
                              virGetLastErrorCode() == VIR_ERR_NO_DOMAIN))
            break; /* no worker to wait for: it has ended */
        if (virGetLastErrorCode() != VIR_ERR_OPERATION_INVALID || attempt >= VB_LV_ABORT_RETRIES) {
            vb_lv_error(error, VB_ERROR_MIGRATION, job->from, "cannot abort the migration");
            return NULL;
        }
        virResetLastError();
        g_usleep(VB_LV_ABORT_RETRY_US);
    }
    virResetLastError();
    return GINT_TO_POINTER(TRUE); /* it ended first: job_poll tells how */
}

/* The flag stops a worker that has not started yet. A source that does not
 * answer within its deadline gives VB_ERROR_TIMEOUT: the migration may go
 * on, and nobody can tell until the host answers. */
gboolean
vb_lv_job_abort(VbConn *conn, VbJob *job, GError **error)
{
    VbLvHost *src = vb_lv_conn_host(conn, job->from);
    gboolean done;

    g_mutex_lock(&job->lock);
    done = job->done;
    /* A cold move is not interruptible: it is not marked aborted, and its
     * abort is refused while it runs, so the executor waits for its end
     * instead of taking it for aborted while it goes on and lands. */
    job->aborted = !done && job->live;
    g_mutex_unlock(&job->lock);
    if (!job->live && !done) {
        g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION,
                    "%s: the cold move of '%s' to %s cannot be interrupted", job->from, job->vm,
                    job->to);
        return FALSE;
    }
    if (!job->live || done)
        return TRUE; /* it ended first: job_poll tells how */
    if (!src) {
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND, "unknown host %s", job->from);
        return FALSE;
    }
    /* The retries above wait up to VB_LV_ABORT_RETRIES * 0.1 s: on top. */
    return vb_lv_host_call(src, vb_lv_job_abort_call, vb_lv_job_ref(job),
                           (GDestroyNotify) vb_lv_job_unref, NULL,
                           VB_LV_ABORT_RETRIES * VB_LV_ABORT_RETRY_US / G_USEC_PER_SEC,
                           error) != NULL;
}

/* ------------------------------------------------------------ locate */

/* Where the guest @arg is on this host, if anywhere (a call with a
 * deadline; not here: VB_ERROR_NOT_FOUND, which the caller ignores). */
static gpointer
vb_lv_locate_call(VbLvHost *host, virConnectPtr conn, gpointer arg, GError **error)
{
    g_autoptr(virDomain) dom = virDomainLookupByName(conn, arg);
    VbVmLocation *loc;

    virResetLastError();
    if (!dom) {
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND, "%s: no guest '%s'", host->name,
                    (const char *) arg);
        return NULL;
    }
    loc = g_new0(VbVmLocation, 1);
    loc->host = g_strdup(host->name);
    loc->running = virDomainIsActive(dom) == 1;
    loc->persistent = virDomainIsPersistent(dom) == 1;
    return loc;
}

/* Hosts that do not answer are skipped (as the ops table says of down
 * hosts), after their deadline. */
GPtrArray *
vb_lv_locate(VbConn *conn, const char *vm, GError **error)
{
    guint n = conn->hosts->len;
    g_autofree gpointer *results = g_new0(gpointer, n + 1);
    g_autofree GError **errors = g_new0(GError *, n + 1);
    GPtrArray *ret = g_ptr_array_new_with_free_func((GDestroyNotify) vb_vm_location_free);

    vb_lv_hosts_call(conn, vb_lv_locate_call, vm, (GDestroyNotify) vb_vm_location_free, results,
                     errors);
    for (guint i = 0; i < n; i++) {
        if (results[i])
            g_ptr_array_add(ret, results[i]);
        else if (!g_error_matches(errors[i], VB_ERROR, VB_ERROR_NOT_FOUND))
            g_debug("locate %s: %s", vm, errors[i]->message);
        g_clear_error(&errors[i]);
    }
    return ret;
}
