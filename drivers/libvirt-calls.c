/*
 * libvirt-calls.c: every call the libvirt driver makes to a host, each with
 * a deadline, run by a fixed pool of worker threads.
 *
 * libvirt's calls block, with no timeout of their own (a libvirtd stopped
 * with SIGSTOP hangs a call, or a connection attempt, for as long as it stays
 * stopped). So a call is queued for a worker; the worker connects first when
 * the host has no connection (in its own thread: the attempt is the host's
 * one attempt in flight), then runs the call. A watcher thread keeps the
 * deadlines: a call still running at its deadline is abandoned, its caller
 * gets "not answering" (or "cannot connect: timed out" while connecting) at
 * once, and its worker is "held": it leaves the working set, a new worker
 * takes its place, and it comes back (or ends, when the pool is full) when
 * libvirt returns. A host with a held call gets no new call until it returns
 * (vb_lv_host_connect_pending, host->hung), so each host holds at most one
 * worker.
 *
 * Workload: a sampling round queues one call per host (10,000 hosts: 10,000
 * calls) and waits for all of them; the executor makes single calls, queued
 * first. Threads are started as calls need them, never more than @size at
 * work, and kept between rounds: a steady daemon starts no thread per round.
 *
 * Invariants (all under the pool's lock): working + held <= 2 * size;
 * busy <= working <= size; a worker is started only for a call no free
 * worker will take; a call is in `queue` only while QUEUED and in `running`
 * only while a worker has it (RUNNING, or ABANDONED until the worker
 * returns); a caller's waiter counts the calls it has not got back yet; a
 * worker never touches a call's waiter once the call is abandoned (its
 * caller may be gone). When no worker can take calls (every one held and no
 * more may start) queued calls fail at once rather than wait for hosts that
 * may never answer; the next call after a worker comes back proceeds.
 */
#include "config.h"

#include "drivers/libvirt-priv.h"

#define VB_LV_WATCH_IDLE_US ((gint64) 3600 * G_USEC_PER_SEC) /* the watcher's sleep with nothing to watch */

typedef enum {
    VB_LV_CALL_QUEUED,    /* waiting for a worker */
    VB_LV_CALL_RUNNING,   /* a worker has it */
    VB_LV_CALL_DONE,      /* result or error set (or refused untried) */
    VB_LV_CALL_ABANDONED, /* past its deadline: its caller has the error, its worker is held */
} VbLvCallState;

/* A caller waiting for its calls: woken as each is done or abandoned. */
typedef struct {
    GCond cond;
    guint pending;            /* calls not yet done or abandoned */
} VbLvWaiter;

typedef struct {
    gatomicrefcount refs;     /* the caller's, and the queue's then the worker's */
    VbLvPool *pool;           /* own reference */
    VbLvHost *host;           /* own reference */
    VbLvCallFunc func;
    gpointer arg;
    GDestroyNotify arg_free;
    GDestroyNotify result_free;
    guint extra_seconds;      /* added to the host's timeout */
    VbLvWaiter *waiter;       /* the caller's; untouched once the call is abandoned */
    /* Guarded by the pool's lock: */
    VbLvCallState state;
    gint64 started_us;        /* monotonic, when a worker took it */
    gint64 deadline_us;
    gint64 connect_deadline_us; /* while its worker runs a connection attempt, else 0 */
    gboolean counted_hung;    /* abandoned past its deadline: counted in host->hung */
    gpointer result;
    GError *error;
} VbLvCall;

struct _VbLvPool {
    gatomicrefcount refs;     /* the owner's, each host's, each call's, each thread's */
    GMutex lock;              /* guards the pool and the state of its calls */
    GCond work;               /* a call was queued, or the pool closes */
    GCond watch;              /* a deadline came nearer, or the pool closes */
    GCond gone;               /* a worker or the watcher ended */
    GQueue queue;             /* VbLvCall * waiting for a worker (own references), head first */
    GQueue running;           /* VbLvCall * its workers have (the worker's reference) */
    guint size;               /* most workers at work (max_parallel_hosts) */
    guint working;            /* workers able to take calls: running one, or free */
    guint busy;               /* of those, running a call */
    guint held;               /* workers in a call past its deadline */
    guint peak;               /* most worker threads alive at once */
    guint started;            /* worker threads started */
    gboolean watching;        /* the watcher thread runs */
    gint64 watch_until_us;    /* when the watcher wakes next */
    gboolean closing;
};

/* ------------------------------------------------------------ calls */

static void
vb_lv_call_unref(VbLvCall *call)
{
    if (!call || !g_atomic_ref_count_dec(&call->refs))
        return;
    if (call->result && call->result_free)
        call->result_free(call->result);
    if (call->arg && call->arg_free)
        call->arg_free(call->arg);
    g_clear_error(&call->error);
    vb_lv_host_unref(call->host);
    vb_lv_pool_unref(call->pool);
    g_free(call);
}

/* Wakes the caller of @call, which is done or abandoned (lock held). */
static void
vb_lv_call_settle(VbLvCall *call, VbLvCallState state)
{
    g_assert(call->waiter && call->waiter->pending > 0);
    call->state = state;
    call->waiter->pending--;
    g_cond_broadcast(&call->waiter->cond);
}

/* ------------------------------------------------------------ the pool */

static gpointer vb_lv_worker_thread(gpointer data);
static gpointer vb_lv_watcher_thread(gpointer data);

VbLvPool *
vb_lv_pool_new(guint size)
{
    VbLvPool *pool = g_new0(VbLvPool, 1);

    g_assert(size > 0);
    g_atomic_ref_count_init(&pool->refs);
    g_mutex_init(&pool->lock);
    g_cond_init(&pool->work);
    g_cond_init(&pool->watch);
    g_cond_init(&pool->gone);
    g_queue_init(&pool->queue);
    g_queue_init(&pool->running);
    pool->size = size;
    return pool;
}

VbLvPool *
vb_lv_pool_ref(VbLvPool *pool)
{
    g_atomic_ref_count_inc(&pool->refs);
    return pool;
}

void
vb_lv_pool_unref(VbLvPool *pool)
{
    if (!pool || !g_atomic_ref_count_dec(&pool->refs))
        return;
    g_assert(g_queue_is_empty(&pool->queue) && g_queue_is_empty(&pool->running));
    g_mutex_clear(&pool->lock);
    g_cond_clear(&pool->work);
    g_cond_clear(&pool->watch);
    g_cond_clear(&pool->gone);
    g_free(pool);
}

void
vb_lv_pool_stats(VbLvPool *pool, VbLvPoolStats *ret_stats)
{
    g_mutex_lock(&pool->lock);
    ret_stats->working = pool->working;
    ret_stats->held = pool->held;
    ret_stats->peak = pool->peak;
    ret_stats->started = pool->started;
    g_mutex_unlock(&pool->lock);
}

/* Fails every queued call at once (lock held): no worker can take them. */
static void
vb_lv_pool_refuse_queued(VbLvPool *pool)
{
    VbLvCall *call;

    while ((call = g_queue_pop_head(&pool->queue))) {
        g_set_error(&call->error, VB_ERROR, VB_ERROR_TIMEOUT,
                    "%s: not tried: all %u workers wait for hosts that do not answer",
                    call->host->name, pool->held);
        vb_lv_call_settle(call, VB_LV_CALL_DONE);
        /* The caller holds a reference too: this frees nothing under the lock. */
        vb_lv_call_unref(call);
    }
}

static gboolean
vb_lv_pool_can_start(const VbLvPool *pool)
{
    return !pool->closing && pool->working < pool->size &&
           pool->working + pool->held < 2 * pool->size;
}

/* Starts a thread holding a reference to @pool; FALSE (logged) when the
 * system refuses one. */
static gboolean
vb_lv_pool_spawn(VbLvPool *pool, const char *name, GThreadFunc func)
{
    g_autoptr(GError) error = NULL;
    GThread *thread = g_thread_try_new(name, func, vb_lv_pool_ref(pool), &error);

    if (!thread) {
        g_debug("libvirt: cannot start a %s thread: %s", name, error->message);
        vb_lv_pool_unref(pool); /* not the last: the caller's is there */
        return FALSE;
    }
    g_thread_unref(thread);
    return TRUE;
}

/* Starts workers while more calls wait than free workers will take, and the
 * watcher with the first worker; refuses the queued calls when no worker
 * can take them (lock held). */
static void
vb_lv_pool_grow(VbLvPool *pool)
{
    if (!g_queue_is_empty(&pool->queue) && !pool->watching && !pool->closing)
        pool->watching = vb_lv_pool_spawn(pool, "vb-lv-watch", vb_lv_watcher_thread);
    /* Free workers (idle, or started and not yet idle) each take one call. */
    while (g_queue_get_length(&pool->queue) > pool->working - pool->busy &&
           vb_lv_pool_can_start(pool)) {
        if (!vb_lv_pool_spawn(pool, "vb-lv-worker", vb_lv_worker_thread))
            break;
        pool->working++;
        pool->started++;
        pool->peak = MAX(pool->peak, pool->working + pool->held);
    }
    if (!g_queue_is_empty(&pool->queue))
        g_cond_signal(&pool->work);
    if (pool->working == 0 || !pool->watching)
        vb_lv_pool_refuse_queued(pool);
}

void
vb_lv_pool_close(VbLvPool *pool)
{
    if (!pool)
        return;
    g_mutex_lock(&pool->lock);
    pool->closing = TRUE;
    g_cond_broadcast(&pool->work);
    g_cond_broadcast(&pool->watch);
    while (pool->working > 0 || pool->watching)
        g_cond_wait(&pool->gone, &pool->lock);
    g_mutex_unlock(&pool->lock);
}

/* ------------------------------------------------------------ deadlines */

/* Abandons @call past its deadline (lock held): its caller gets the error
 * now, its worker is held until libvirt returns, and another may start. */
static void
vb_lv_call_abandon(VbLvPool *pool, VbLvCall *call, gint64 now)
{
    VbLvHost *host = call->host;
    guint timeout = MAX(host->timeout_seconds, 1);

    g_mutex_lock(&host->lock);
    if (call->connect_deadline_us) {
        /* The host's attempt stays in flight: later calls fail at once
         * with the same words (vb_lv_host_connect_pending). */
        g_set_error(&call->error, VB_ERROR, VB_ERROR_TIMEOUT,
                    "%s: cannot connect: timed out after %u s (no answer for %.0f s)",
                    host->name, timeout,
                    (double) (now - call->connect_deadline_us) / G_USEC_PER_SEC + timeout);
    } else {
        call->counted_hung = TRUE;
        if (host->hung++ == 0)
            host->hung_since_us = now;
        g_free(host->reason);
        host->reason = g_strdup_printf("%s: not answering: no reply within %.0f s", host->name,
                                       (double) (call->deadline_us - call->started_us) /
                                           G_USEC_PER_SEC);
        g_set_error_literal(&call->error, VB_ERROR, VB_ERROR_TIMEOUT, host->reason);
    }
    g_mutex_unlock(&host->lock);
    vb_lv_call_settle(call, VB_LV_CALL_ABANDONED);
    pool->busy--;
    pool->working--;
    pool->held++;
    vb_lv_pool_grow(pool);
}

/* Abandons the running calls past their deadline and sleeps until the next
 * one; one thread per pool, started with its first worker. */
static gpointer
vb_lv_watcher_thread(gpointer data)
{
    VbLvPool *pool = data;

    g_mutex_lock(&pool->lock);
    while (!pool->closing) {
        gint64 now = g_get_monotonic_time();
        gint64 next = now + VB_LV_WATCH_IDLE_US;

        for (GList *l = pool->running.head; l; l = l->next) {
            VbLvCall *call = l->data;
            gint64 deadline = call->connect_deadline_us
                                  ? MIN(call->connect_deadline_us, call->deadline_us)
                                  : call->deadline_us;

            if (call->state != VB_LV_CALL_RUNNING)
                continue;
            if (now >= deadline)
                vb_lv_call_abandon(pool, call, now);
            else
                next = MIN(next, deadline);
        }
        pool->watch_until_us = next;
        g_cond_wait_until(&pool->watch, &pool->lock, next);
    }
    pool->watching = FALSE;
    g_cond_broadcast(&pool->gone);
    g_mutex_unlock(&pool->lock);
    vb_lv_pool_unref(pool);
    return NULL;
}

/* Wakes the watcher when @deadline_us comes before its next wake (lock held). */
static void
vb_lv_pool_watch(VbLvPool *pool, gint64 deadline_us)
{
    if (deadline_us < pool->watch_until_us || pool->watch_until_us == 0) {
        pool->watch_until_us = deadline_us;
        g_cond_signal(&pool->watch);
    }
}

/* ------------------------------------------------------------ workers */

/* The worker's connection attempt for @data (a VbLvCall) starts now. */
static void
vb_lv_call_connecting(gpointer data, gint64 deadline_us)
{
    VbLvCall *call = data;

    g_mutex_lock(&call->pool->lock);
    call->connect_deadline_us = deadline_us;
    vb_lv_pool_watch(call->pool, deadline_us);
    g_mutex_unlock(&call->pool->lock);
}

/* A worker takes @call (lock held): its deadline runs from now. */
static void
vb_lv_call_begin(VbLvPool *pool, VbLvCall *call)
{
    VbLvHost *host = call->host;
    guint timeout = MAX(host->timeout_seconds, 1);
    gboolean connected;

    g_mutex_lock(&host->lock);
    connected = host->conn != NULL;
    g_mutex_unlock(&host->lock);
    call->state = VB_LV_CALL_RUNNING;
    call->started_us = g_get_monotonic_time();
    /* Without a connection, the call may first wait for the connect. */
    call->deadline_us = call->started_us +
                        (gint64) (timeout * (connected ? 1 : 2) + call->extra_seconds) *
                            G_USEC_PER_SEC;
    g_queue_push_tail(&pool->running, call);
    vb_lv_pool_watch(pool, call->deadline_us);
}

/* Runs @call in this worker (lock not held) and hands its result over;
 * returns with the lock held, TRUE when the call was abandoned meanwhile
 * (this worker was held). */
static gboolean
vb_lv_call_run(VbLvPool *pool, VbLvCall *call)
{
    VbLvHost *host = call->host;
    GError *error = NULL;
    gpointer result = NULL;
    virConnectPtr conn = vb_lv_host_connect_here(host, vb_lv_call_connecting, call, &error);
    gboolean abandoned;

    g_mutex_lock(&pool->lock);
    call->connect_deadline_us = 0;
    abandoned = call->state == VB_LV_CALL_ABANDONED;
    g_mutex_unlock(&pool->lock);
    if (conn && !abandoned)
        result = call->func(host, conn, call->arg, &error);
    if (conn)
        virConnectClose(conn);
    g_assert(result || error || abandoned);
    g_mutex_lock(&pool->lock);
    g_queue_remove(&pool->running, call);
    abandoned = call->state == VB_LV_CALL_ABANDONED;
    if (!abandoned) {
        call->result = result;
        call->error = error;
        vb_lv_call_settle(call, VB_LV_CALL_DONE);
        return FALSE;
    }
    if (call->counted_hung) {
        g_mutex_lock(&host->lock);
        if (--host->hung == 0)
            g_debug("%s: answers again", host->name);
        g_mutex_unlock(&host->lock);
    }
    /* Nobody waits for it any more; dropped outside the lock. */
    g_mutex_unlock(&pool->lock);
    if (result && call->result_free)
        call->result_free(result);
    g_clear_error(&error);
    g_mutex_lock(&pool->lock);
    return TRUE;
}

static gpointer
vb_lv_worker_thread(gpointer data)
{
    VbLvPool *pool = data;

    g_mutex_lock(&pool->lock);
    for (;;) {
        VbLvCall *call;

        while (g_queue_is_empty(&pool->queue) && !pool->closing)
            g_cond_wait(&pool->work, &pool->lock);
        if (!(call = g_queue_pop_head(&pool->queue)))
            break; /* closing */
        pool->busy++;
        vb_lv_call_begin(pool, call);
        g_mutex_unlock(&pool->lock);
        if (!vb_lv_call_run(pool, call)) {
            pool->busy--;
        } else {
            pool->held--;
            if (pool->closing || pool->working >= pool->size) {
                g_mutex_unlock(&pool->lock);
                vb_lv_call_unref(call);
                vb_lv_pool_unref(pool);
                return NULL; /* another took this one's place */
            }
            pool->working++;
        }
        g_mutex_unlock(&pool->lock);
        vb_lv_call_unref(call);
        g_mutex_lock(&pool->lock);
        vb_lv_pool_grow(pool);
    }
    pool->working--;
    g_cond_broadcast(&pool->gone);
    g_mutex_unlock(&pool->lock);
    vb_lv_pool_unref(pool);
    return NULL;
}

/* ------------------------------------------------------------ callers */

/* Queues @func on @host for @waiter (transfer full), first in line when
 * @urgent; or NULL with @error at once when @host cannot be called now (a
 * call past its deadline still waits in libvirt, or connecting would fail
 * at once). Takes @arg in every case. */
static VbLvCall *
vb_lv_call_queue(VbLvHost *host, VbLvCallFunc func, gpointer arg, GDestroyNotify arg_free,
                 GDestroyNotify result_free, guint extra_seconds, VbLvWaiter *waiter,
                 gboolean urgent, GError **error)
{
    VbLvPool *pool = host->workers;
    gboolean hung;
    VbLvCall *call;

    g_mutex_lock(&host->lock);
    hung = host->hung > 0;
    if (hung)
        g_set_error(error, VB_ERROR, VB_ERROR_TIMEOUT,
                    "%s: not answering: a call has waited %.0f s for a reply", host->name,
                    (double) (g_get_monotonic_time() - host->hung_since_us) / G_USEC_PER_SEC);
    g_mutex_unlock(&host->lock);
    if (hung || vb_lv_host_connect_pending(host, error)) {
        if (arg && arg_free)
            arg_free(arg);
        return NULL;
    }
    call = g_new0(VbLvCall, 1);
    g_atomic_ref_count_init(&call->refs);
    g_atomic_ref_count_inc(&call->refs); /* the queue's */
    call->pool = vb_lv_pool_ref(pool);
    call->host = vb_lv_host_ref(host);
    call->func = func;
    call->arg = arg;
    call->arg_free = arg_free;
    call->result_free = result_free;
    call->extra_seconds = extra_seconds;
    call->waiter = waiter;
    g_mutex_lock(&pool->lock);
    waiter->pending++;
    if (pool->closing) { /* defensive: the ops are not called after close */
        g_set_error(&call->error, VB_ERROR, VB_ERROR_FAILED, "%s: the driver is closed",
                    host->name);
        vb_lv_call_settle(call, VB_LV_CALL_DONE);
        vb_lv_call_unref(call);
    } else {
        if (urgent)
            g_queue_push_head(&pool->queue, call);
        else
            g_queue_push_tail(&pool->queue, call);
        vb_lv_pool_grow(pool);
    }
    g_mutex_unlock(&pool->lock);
    return call;
}

static void
vb_lv_waiter_wait(VbLvPool *pool, VbLvWaiter *waiter)
{
    g_mutex_lock(&pool->lock);
    while (waiter->pending > 0)
        g_cond_wait(&waiter->cond, &pool->lock);
    g_mutex_unlock(&pool->lock);
}

/* The outcome of @call, done or abandoned: its result (transfer full), or
 * NULL with its error. Frees the caller's reference. */
static gpointer
vb_lv_call_take(VbLvCall *call, GError **error)
{
    gpointer result;

    g_mutex_lock(&call->pool->lock);
    g_assert(call->state == VB_LV_CALL_DONE || call->state == VB_LV_CALL_ABANDONED);
    result = g_steal_pointer(&call->result);
    if (!result)
        g_propagate_error(error, g_steal_pointer(&call->error));
    g_mutex_unlock(&call->pool->lock);
    vb_lv_call_unref(call);
    return result;
}

gpointer
vb_lv_host_call(VbLvHost *host, VbLvCallFunc func, gpointer arg, GDestroyNotify arg_free,
                GDestroyNotify result_free, guint extra_seconds, GError **error)
{
    VbLvWaiter waiter = { 0 };
    VbLvCall *call;
    gpointer result = NULL;

    g_cond_init(&waiter.cond);
    call = vb_lv_call_queue(host, func, arg, arg_free, result_free, extra_seconds, &waiter, TRUE,
                            error);
    if (call) {
        vb_lv_waiter_wait(host->workers, &waiter);
        result = vb_lv_call_take(call, error);
    }
    g_cond_clear(&waiter.cond);
    return result;
}

void
vb_lv_hosts_call(VbConn *conn, VbLvCallFunc func, const char *arg, GDestroyNotify result_free,
                 gpointer *ret_results, GError **ret_errors)
{
    guint n = conn->hosts->len;
    g_autofree VbLvCall **calls = g_new0(VbLvCall *, n + 1);
    g_autofree gboolean *queued = g_new0(gboolean, n + 1);
    VbLvWaiter waiter = { 0 };

    g_cond_init(&waiter.cond);
    /* Hosts with a connection first: those that must connect are the ones
     * that may hang for good (a connected host that stops answering is let
     * go by keepalive), so they go last and hold workers last. */
    for (guint pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < n; i++) {
            VbLvHost *host = g_ptr_array_index(conn->hosts, i);
            gboolean connected;

            g_mutex_lock(&host->lock);
            connected = host->conn != NULL;
            g_mutex_unlock(&host->lock);
            if (queued[i] || (pass == 0 && !connected))
                continue;
            queued[i] = TRUE;
            calls[i] = vb_lv_call_queue(host, func, g_strdup(arg), g_free, result_free, 0,
                                        &waiter, FALSE, &ret_errors[i]);
        }
    }
    vb_lv_waiter_wait(conn->workers, &waiter);
    for (guint i = 0; i < n; i++)
        ret_results[i] = calls[i] ? vb_lv_call_take(calls[i], &ret_errors[i]) : NULL;
    g_cond_clear(&waiter.cond);
}
