/*
 * sim.c: the simulated pool driver (`driver: sim`).
 *
 * A sim connection owns one VbInventory (loaded from config->inventory, or
 * handed over by vb_sim_conn_new) and a virtual clock in seconds. Nothing
 * happens between calls: now() reads the clock and sleep() advances it,
 * applying every event that falls inside the interval in time order (a
 * migration completing or failing, a host going down). So an hour of
 * migrations takes a few milliseconds, deterministically.
 *
 * Migrations: migrate_start checks the guest is on `from` and both hosts are
 * usable, and schedules a completion after vb_placement_estimate_seconds()
 * of virtual time (times a slow-down factor when one is injected). Migrations
 * live in the connection, not in the VbJob handle: freeing a handle (or the
 * executor "crashing") does not stop the migration, as on real hosts, and
 * job_find re-attaches to it. On completion the guest moves
 * (vb_inventory_move_vm) and the measured loads of both hosts shift by the
 * guest's share: cpu by vcpus * cpu_usage / cores, memory by its memory,
 * storage by its local disks for live-storage and cold moves; its
 * last_migrated becomes the virtual time, and snapshots count its completed
 * migrations of the last virtual day in moves_last_day.
 *
 * Counters: sample() returns raw cumulative counters consistent with the
 * inventory's usage: a host's busy time grows by cpu_usage * cores * elapsed,
 * a guest's cpu time by cpu_usage * vcpus * elapsed, so the collectors' delta
 * math gives back the usage in the inventory.
 *
 * Partial copies: vb_sim_kill_copier() plays a crash of the program that
 * copies the disks of cold moves (on real hosts it copies them itself, so they
 * stop with it): each cold move in flight ends there, its guest still on its
 * source, and the part of its local disks already copied stays on the
 * destination, using its storage. A later cold move of that guest to that
 * host fails ("exists") until cold_cleanup removes the copy. (The libvirt
 * driver also sweeps its own leftovers before each copy; the sim does not,
 * so tests see what the executor's reconciliation does by itself.)
 *
 * Invariants: conn->clock only grows; a migration is RUNNING until its end
 * (or failure, or abort) time has been reached by the clock; at most one
 * RUNNING migration per guest.
 */
#include "config.h"

#include <math.h>

#include "drivers/drivers.h"
#include "placement/placement.h"

typedef struct {
    char *vm, *from, *to;   /* names */
    VbMoveKind kind;
    double start;           /* virtual seconds */
    double end;             /* completion time */
    double fail_at;         /* injected failure time, INFINITY when none */
    VbJobState state;
    char *message;          /* why it failed or was aborted */
} SimMigration;

typedef struct {
    char *host;
    double at;
    gboolean done;
} SimFault;

typedef struct {
    char *vm, *host;        /* a partial copy of vm's local disks on host */
    double gib;             /* the storage it uses there */
} SimPartial;

struct _VbConn {
    VbInventory *inv;       /* the simulated pool, owned */
    VbPolicy *policy;       /* for estimates; migration settings per request */
    double clock;           /* virtual seconds since open */
    gint64 wall_base_us;    /* real time at open, for sample timestamps */
    GPtrArray *migrations;  /* owned SimMigration *, job id = index */
    GPtrArray *faults;      /* owned SimFault * */
    GHashTable *fail_times; /* vm name -> remaining injected failures */
    GHashTable *slow;       /* vm name -> slow-down factor * 1000 */
    GArray *busy_ns;        /* double per host id: cumulative busy time */
    GPtrArray *partial;     /* owned SimPartial *: copies left by a killed copier */
};

struct _VbJob {
    VbConn *conn;           /* borrowed */
    guint id;               /* index in conn->migrations */
};

static void
sim_migration_free(gpointer data)
{
    SimMigration *m = data;

    g_free(m->vm);
    g_free(m->from);
    g_free(m->to);
    g_free(m->message);
    g_free(m);
}

static void
sim_partial_free(gpointer data)
{
    SimPartial *p = data;

    g_free(p->vm);
    g_free(p->host);
    g_free(p);
}

static void
sim_fault_free(gpointer data)
{
    SimFault *f = data;

    g_free(f->host);
    g_free(f);
}

VbConn *
vb_sim_conn_new(VbInventory *inv)
{
    VbConn *conn = g_new0(VbConn, 1);

    conn->inv = inv;
    conn->policy = vb_policy_new_default();
    conn->wall_base_us = g_get_real_time();
    conn->migrations = g_ptr_array_new_with_free_func(sim_migration_free);
    conn->faults = g_ptr_array_new_with_free_func(sim_fault_free);
    conn->fail_times = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    conn->slow = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    conn->busy_ns = g_array_new(FALSE, TRUE, sizeof(double));
    conn->partial = g_ptr_array_new_with_free_func(sim_partial_free);
    g_array_set_size(conn->busy_ns, inv->hosts->len);
    return conn;
}

static VbConn *
sim_open(const VbConfig *config, GError **error)
{
    VbInventory *inv;

    if (!config->inventory) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "%s: the sim driver needs an inventory file (key 'inventory')",
                    config->filename ? config->filename : "config");
        return NULL;
    }
    inv = vb_inventory_load_file(config->inventory, error);
    return inv ? vb_sim_conn_new(inv) : NULL;
}

static void
sim_close(VbConn *conn)
{
    if (!conn)
        return;
    vb_inventory_free(conn->inv);
    vb_policy_free(conn->policy);
    g_ptr_array_unref(conn->migrations);
    g_ptr_array_unref(conn->faults);
    g_hash_table_unref(conn->fail_times);
    g_hash_table_unref(conn->slow);
    g_array_unref(conn->busy_ns);
    g_ptr_array_unref(conn->partial);
    g_free(conn);
}

VbInventory *
vb_sim_conn_inventory(VbConn *conn)
{
    return conn->inv;
}

/* ------------------------------------------------------------ the clock */

/* Adds the busy time of every up host over [conn->clock, until]. */
static void
sim_accumulate(VbConn *conn, double until)
{
    double dt = until - conn->clock;

    if (dt <= 0)
        return;
    for (guint h = 0; h < conn->inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(conn->inv, h);

        if (host->state != VB_HOST_STATE_DOWN)
            g_array_index(conn->busy_ns, double, h) += host->cpu_usage * host->cpu_cores * dt * 1e9;
    }
    conn->clock = until;
}

/* Shifts the measured load of a guest from @from to @to. */
static void
sim_shift_load(VbConn *conn, const VbVm *vm, VbHost *from, VbHost *to, VbMoveKind kind)
{
    double local = vb_vm_local_disk_gib(vm);

    if (vm->state != VB_VM_STATE_SHUTOFF) {
        double cpu = vm->vcpus * vm->cpu_usage;

        from->cpu_usage = MAX(0.0, from->cpu_usage - cpu / MAX(from->cpu_cores, 1u));
        to->cpu_usage += cpu / MAX(to->cpu_cores, 1u);
        from->memory_used_mib -= MIN(from->memory_used_mib, vm->memory_mib);
        to->memory_used_mib = MIN(to->memory_mib, to->memory_used_mib + vm->memory_mib);
    }
    if (kind != VB_MOVE_LIVE && local > 0) {
        from->storage_free_gib = MIN(from->storage_total_gib, from->storage_free_gib + local);
        to->storage_free_gib = MAX(0.0, to->storage_free_gib - local);
    }
}

static void
sim_complete(VbConn *conn, SimMigration *m)
{
    VbVm *vm = vb_inventory_get_vm(conn->inv, m->vm);
    VbHost *from = vb_inventory_get_host(conn->inv, m->from);
    VbHost *to = vb_inventory_get_host(conn->inv, m->to);

    g_assert(vm && from && to && vm->host == from->id);
    sim_shift_load(conn, vm, from, to, m->kind);
    vb_inventory_move_vm(conn->inv, vm, to);
    vm->last_migrated = (conn->wall_base_us / G_USEC_PER_SEC) + (gint64) conn->clock;
    m->state = VB_JOB_COMPLETED;
    g_debug("sim: %s moved %s -> %s at %.1f s", m->vm, m->from, m->to, conn->clock);
}

static void
sim_host_down(VbConn *conn, SimFault *f)
{
    VbHost *host = vb_inventory_get_host(conn->inv, f->host);

    f->done = TRUE;
    if (!host)
        return;
    host->state = VB_HOST_STATE_DOWN;
    g_free(host->state_reason);
    host->state_reason = g_strdup_printf("simulated failure at %.1f s", f->at);
    for (guint i = 0; i < conn->migrations->len; i++) {
        SimMigration *m = g_ptr_array_index(conn->migrations, i);

        if (m->state == VB_JOB_RUNNING &&
            (g_str_equal(m->from, f->host) || g_str_equal(m->to, f->host))) {
            m->state = VB_JOB_FAILED;
            m->message = g_strdup_printf("%s: host went down during the migration", f->host);
        }
    }
}

/* The earliest pending event at or before @until: a fault (ret_fault) or a
 * migration's end or failure (ret_mig). FALSE when there is none. */
static gboolean
sim_next_event(VbConn *conn, double until, SimFault **ret_fault, SimMigration **ret_mig,
               double *ret_at)
{
    double best = INFINITY;

    *ret_fault = NULL;
    *ret_mig = NULL;
    for (guint i = 0; i < conn->faults->len; i++) {
        SimFault *f = g_ptr_array_index(conn->faults, i);

        if (!f->done && f->at <= until && f->at < best) {
            best = f->at;
            *ret_fault = f;
        }
    }
    for (guint i = 0; i < conn->migrations->len; i++) {
        SimMigration *m = g_ptr_array_index(conn->migrations, i);
        double at = MIN(m->end, m->fail_at);

        if (m->state == VB_JOB_RUNNING && at <= until && at < best) {
            best = at;
            *ret_mig = m;
            *ret_fault = NULL;
        }
    }
    *ret_at = best;
    return best != INFINITY;
}

/* Moves the clock to @until, applying every event on the way in time order. */
static void
sim_advance(VbConn *conn, double until)
{
    SimFault *fault;
    SimMigration *mig;
    double at;

    while (sim_next_event(conn, until, &fault, &mig, &at)) {
        sim_accumulate(conn, MAX(at, conn->clock));
        if (fault) {
            sim_host_down(conn, fault);
        } else if (mig->fail_at < mig->end) {
            mig->state = VB_JOB_FAILED;
            mig->message = g_strdup_printf("%s: simulated migration failure", mig->vm);
        } else {
            sim_complete(conn, mig);
        }
    }
    sim_accumulate(conn, until);
}

static double
sim_now(VbConn *conn)
{
    return conn->clock;
}

static void
sim_sleep(VbConn *conn, double seconds)
{
    if (seconds > 0)
        sim_advance(conn, conn->clock + seconds);
    else
        sim_advance(conn, conn->clock);
}

/* ---------------------------------------------------- snapshot, sample */

/* The pool as it is now; each guest's moves_last_day is the inventory's
 * (moves before the simulation) plus the migrations it completed in the
 * last 24 h of virtual time. */
static VbInventory *
sim_snapshot(VbConn *conn, GError **error)
{
    VbInventory *inv;

    sim_advance(conn, conn->clock);
    inv = vb_inventory_copy(conn->inv);
    for (guint i = 0; i < conn->migrations->len; i++) {
        const SimMigration *m = g_ptr_array_index(conn->migrations, i);
        VbVm *vm = m->state == VB_JOB_COMPLETED ? vb_inventory_get_vm(inv, m->vm) : NULL;

        if (vm && m->end >= conn->clock - 86400)
            vm->moves_last_day++;
    }
    return inv;
}

static void
sim_sample_vms(VbConn *conn, const VbHost *host, VbHostSample *hs)
{
    for (guint i = 0; i < host->vms->len; i++) {
        const VbVm *vm = vb_inventory_vm(conn->inv, g_array_index(host->vms, guint, i));
        VbVmSample vs = { 0 };

        vs.name = g_strdup(vm->name);
        vs.vcpus = vm->vcpus;
        vs.running = vm->state != VB_VM_STATE_SHUTOFF;
        vs.cpu_time_ns = vs.running ? (guint64) (vm->cpu_usage * vm->vcpus * conn->clock * 1e9) : 0;
        vs.memory_mib = vm->memory_mib;
        vs.rss_mib = vs.running ? vm->memory_mib : 0;
        vs.disk_allocation_mib = (guint64) (vb_vm_local_disk_gib(vm) * 1024);
        g_array_append_val(hs->vms, vs);
    }
}

static VbHostSample *
sim_sample_host(VbConn *conn, const VbHost *host)
{
    VbHostSample *hs = vb_host_sample_new(host->name);

    hs->timestamp_us = conn->wall_base_us + (gint64) (conn->clock * G_USEC_PER_SEC);
    hs->monotonic_us = (gint64) (conn->clock * G_USEC_PER_SEC);
    hs->up = host->state != VB_HOST_STATE_DOWN;
    if (!hs->up) {
        hs->reason = g_strdup_printf("%s: %s", host->name,
                                     host->state_reason ? host->state_reason : "host is down");
        return hs;
    }
    hs->cpu_cores = host->cpu_cores;
    hs->cpu_busy_ns = (guint64) g_array_index(conn->busy_ns, double, host->id);
    hs->cpu_total_ns = (guint64) (host->cpu_cores * conn->clock * 1e9);
    hs->memory_total_mib = host->memory_mib;
    hs->memory_free_mib = host->memory_mib - MIN(host->memory_mib, host->memory_used_mib);
    hs->storage_total_gib = host->storage_total_gib;
    hs->storage_free_gib = host->storage_free_gib;
    sim_sample_vms(conn, host, hs);
    return hs;
}

static VbSampleSet *
sim_sample(VbConn *conn, GError **error)
{
    VbSampleSet *set = vb_sample_set_new();

    sim_advance(conn, conn->clock);
    for (guint h = 0; h < conn->inv->hosts->len; h++)
        g_ptr_array_add(set->hosts, sim_sample_host(conn, vb_inventory_host(conn->inv, h)));
    return set;
}

/* ------------------------------------------------------------ migration */

static SimMigration *
sim_running_migration(VbConn *conn, const char *vm)
{
    for (guint i = 0; i < conn->migrations->len; i++) {
        SimMigration *m = g_ptr_array_index(conn->migrations, i);

        if (m->state == VB_JOB_RUNNING && g_str_equal(m->vm, vm))
            return m;
    }
    return NULL;
}

static gboolean
sim_host_usable(const VbHost *host, const char *role, const char *name, GError **error)
{
    if (!host) {
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND, "%s host '%s' does not exist", role,
                    name);
        return FALSE;
    }
    if (host->state != VB_HOST_STATE_UP && !(host->state == VB_HOST_STATE_MAINTENANCE &&
                                              g_str_equal(role, "source"))) {
        g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION, "%s: %s host is %s%s%s", host->name,
                    role, vb_host_state_to_string(host->state),
                    host->state_reason ? ": " : "", host->state_reason ? host->state_reason : "");
        return FALSE;
    }
    return TRUE;
}

/* Checks @req against the pool; returns the guest and its move kind. */
static VbVm *
sim_check_request(VbConn *conn, const VbMigrationRequest *req, VbMoveKind *ret_kind,
                  GError **error)
{
    VbVm *vm = vb_inventory_get_vm(conn->inv, req->vm);
    VbHost *from = vb_inventory_get_host(conn->inv, req->from);
    VbHost *to = vb_inventory_get_host(conn->inv, req->to);

    if (!vm) {
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND, "guest '%s' does not exist", req->vm);
        return NULL;
    }
    if (!sim_host_usable(from, "source", req->from, error) ||
        !sim_host_usable(to, "destination", req->to, error))
        return NULL;
    if (vm->host != from->id) {
        g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION, "%s: guest %s is not on it (it is on %s)",
                    from->name, vm->name, vb_inventory_host(conn->inv, vm->host)->name);
        return NULL;
    }
    if (from == to || sim_running_migration(conn, vm->name)) {
        g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION, "%s: guest %s %s", from->name, vm->name,
                    from == to ? "is already on the destination" : "is already migrating");
        return NULL;
    }
    if (req->live != (vm->state != VB_VM_STATE_SHUTOFF)) {
        g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION, "%s: guest %s is %s: %s move refused",
                    from->name, vm->name, vb_vm_state_to_string(vm->state),
                    req->live ? "live" : "cold");
        return NULL;
    }
    *ret_kind = !req->live ? VB_MOVE_COLD : req->copy_storage ? VB_MOVE_LIVE_STORAGE : VB_MOVE_LIVE;
    return vm;
}

/* The partial copy of @vm's disks on @host, or -1. */
static gint
sim_partial_index(VbConn *conn, const char *vm, const char *host)
{
    for (guint i = 0; i < conn->partial->len; i++) {
        const SimPartial *p = g_ptr_array_index(conn->partial, i);

        if (g_strcmp0(p->vm, vm) == 0 && g_strcmp0(p->host, host) == 0)
            return (gint) i;
    }
    return -1;
}

static VbJob *
sim_migrate_start(VbConn *conn, const VbMigrationRequest *req, GError **error)
{
    SimMigration *m;
    VbJob *job;
    VbMoveKind kind;
    VbVm *vm;
    double seconds;
    guint fails;
    guint slow;

    sim_advance(conn, conn->clock);
    vm = sim_check_request(conn, req, &kind, error);
    if (!vm)
        return NULL;
    if (kind == VB_MOVE_COLD && sim_partial_index(conn, vm->name, req->to) >= 0) {
        g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION,
                    "%s: cannot copy the disks of %s: a volume of the same name exists (a "
                    "partial copy left by an interrupted move)",
                    req->to, vm->name);
        return NULL;
    }
    if (req->settings)
        conn->policy->migration = *req->settings;
    seconds = vb_placement_estimate_seconds(conn->inv, conn->policy, vm,
                                            vb_inventory_get_host(conn->inv, req->from),
                                            vb_inventory_get_host(conn->inv, req->to), kind);
    slow = GPOINTER_TO_UINT(g_hash_table_lookup(conn->slow, vm->name));
    if (slow)
        seconds *= slow / 1000.0;
    m = g_new0(SimMigration, 1);
    m->vm = g_strdup(req->vm);
    m->from = g_strdup(req->from);
    m->to = g_strdup(req->to);
    m->kind = kind;
    m->start = conn->clock;
    m->end = conn->clock + MAX(seconds, 0.001);
    m->fail_at = INFINITY;
    m->state = VB_JOB_RUNNING;
    fails = GPOINTER_TO_UINT(g_hash_table_lookup(conn->fail_times, vm->name));
    if (fails > 0) {
        m->fail_at = m->start + (m->end - m->start) / 2;
        g_hash_table_insert(conn->fail_times, g_strdup(vm->name), GUINT_TO_POINTER(fails - 1));
    }
    g_ptr_array_add(conn->migrations, m);
    job = g_new0(VbJob, 1);
    job->conn = conn;
    job->id = conn->migrations->len - 1;
    return job;
}

static gboolean
sim_job_poll(VbConn *conn, VbJob *job, VbJobInfo *ret_info, GError **error)
{
    SimMigration *m;
    const VbVm *vm;
    double total, span;

    g_return_val_if_fail(job && job->conn == conn && job->id < conn->migrations->len, FALSE);
    sim_advance(conn, conn->clock);
    m = g_ptr_array_index(conn->migrations, job->id);
    vm = vb_inventory_get_vm(conn->inv, m->vm);
    span = m->end - m->start;
    total = vm->memory_mib + (m->kind != VB_MOVE_LIVE ? vb_vm_local_disk_gib(vm) * 1024 : 0);
    ret_info->state = m->state;
    ret_info->elapsed_seconds = conn->clock - m->start;
    ret_info->progress = m->state == VB_JOB_COMPLETED ? 1.0
                                                      : CLAMP(ret_info->elapsed_seconds / span, 0, 1);
    ret_info->remaining_mib = (guint64) (total * (1.0 - ret_info->progress));
    ret_info->message = g_strdup(m->message);
    return TRUE;
}

static gboolean
sim_job_abort(VbConn *conn, VbJob *job, GError **error)
{
    SimMigration *m;

    g_return_val_if_fail(job && job->conn == conn && job->id < conn->migrations->len, FALSE);
    sim_advance(conn, conn->clock);
    m = g_ptr_array_index(conn->migrations, job->id);
    if (m->state != VB_JOB_RUNNING) {
        g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION, "%s: no migration to abort (it is %s)",
                    m->vm, m->state == VB_JOB_COMPLETED ? "finished" : "already stopped");
        return FALSE;
    }
    m->state = VB_JOB_ABORTED;
    m->message = g_strdup_printf("%s: migration aborted on request", m->vm);
    return TRUE;
}

static void
sim_job_free(VbJob *job)
{
    g_free(job);
}

static VbJob *
sim_job_find(VbConn *conn, const char *vm, GError **error)
{
    SimMigration *m;
    VbJob *job;

    sim_advance(conn, conn->clock);
    m = sim_running_migration(conn, vm);
    if (!m)
        return NULL;
    job = g_new0(VbJob, 1);
    job->conn = conn;
    for (job->id = 0; g_ptr_array_index(conn->migrations, job->id) != m; job->id++)
        ;
    return job;
}

/* Removes the partial copy of @vm on @to, giving its storage back. */
static char **
sim_cold_cleanup(VbConn *conn, const char *vm, const char *from, const char *to,
                 GError **error)
{
    GPtrArray *removed = g_ptr_array_new();
    gint i = sim_partial_index(conn, vm, to);

    if (!vb_inventory_get_host(conn->inv, from) || !vb_inventory_get_host(conn->inv, to)) {
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND, "cannot clean up after '%s': unknown host",
                    vm);
        g_ptr_array_unref(removed);
        return NULL;
    }
    if (i >= 0) {
        SimPartial *p = g_ptr_array_index(conn->partial, i);
        VbHost *host = vb_inventory_get_host(conn->inv, to);

        host->storage_free_gib = MIN(host->storage_total_gib, host->storage_free_gib + p->gib);
        g_ptr_array_add(removed, g_strdup_printf("%s-disks", vm));
        g_ptr_array_remove_index(conn->partial, i);
    }
    g_ptr_array_add(removed, NULL);
    return (char **) g_ptr_array_free(removed, FALSE);
}

/* A guest is where the inventory says until its migration completes (the
 * destination's incoming copy is not defined there yet, as with libvirt). */
static GPtrArray *
sim_locate(VbConn *conn, const char *name, GError **error)
{
    GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify) vb_vm_location_free);
    const VbVm *vm;
    const VbHost *host;
    VbVmLocation *loc;

    sim_advance(conn, conn->clock);
    vm = vb_inventory_get_vm(conn->inv, name);
    if (!vm)
        return found;
    host = vb_inventory_host(conn->inv, vm->host);
    if (host->state == VB_HOST_STATE_DOWN)
        return found;
    loc = g_new0(VbVmLocation, 1);
    loc->host = g_strdup(host->name);
    loc->running = vm->state != VB_VM_STATE_SHUTOFF;
    loc->persistent = TRUE;
    g_ptr_array_add(found, loc);
    return found;
}

/* ------------------------------------------------------- fault injection */

void
vb_sim_fail_host_at(VbConn *conn, const char *host, double at)
{
    SimFault *f = g_new0(SimFault, 1);

    f->host = g_strdup(host);
    f->at = MAX(at, conn->clock);
    g_ptr_array_add(conn->faults, f);
}

void
vb_sim_fail_migrations(VbConn *conn, const char *vm, guint times)
{
    g_hash_table_insert(conn->fail_times, g_strdup(vm), GUINT_TO_POINTER(times));
}

void
vb_sim_slow_migrations(VbConn *conn, const char *vm, double factor)
{
    g_return_if_fail(factor > 0);
    g_hash_table_insert(conn->slow, g_strdup(vm), GUINT_TO_POINTER((guint) (factor * 1000)));
}

void
vb_sim_kill_copier(VbConn *conn)
{
    sim_advance(conn, conn->clock);
    for (guint i = 0; i < conn->migrations->len; i++) {
        SimMigration *m = g_ptr_array_index(conn->migrations, i);
        const VbVm *vm = vb_inventory_get_vm(conn->inv, m->vm);
        VbHost *to = vb_inventory_get_host(conn->inv, m->to);
        double done, gib;

        if (m->state != VB_JOB_RUNNING || m->kind != VB_MOVE_COLD)
            continue;
        m->state = VB_JOB_FAILED;
        m->message = g_strdup("the program copying its disks was killed");
        done = (conn->clock - m->start) / MAX(m->end - m->start, 0.001);
        gib = vb_vm_local_disk_gib(vm) * CLAMP(done, 0.0, 1.0);
        if (vb_vm_local_disk_gib(vm) > 0 && sim_partial_index(conn, m->vm, m->to) < 0) {
            SimPartial *p = g_new0(SimPartial, 1);

            p->vm = g_strdup(m->vm);
            p->host = g_strdup(m->to);
            p->gib = MIN(gib, to->storage_free_gib);
            to->storage_free_gib -= p->gib;
            g_ptr_array_add(conn->partial, p);
        }
    }
}

guint
vb_sim_n_partial_copies(VbConn *conn)
{
    return conn->partial->len;
}

guint
vb_sim_n_migrations(VbConn *conn)
{
    return conn->migrations->len;
}

const VbDriverOps vb_driver_sim = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .snapshot = sim_snapshot,
    .sample = sim_sample,
    .migrate_start = sim_migrate_start,
    .job_poll = sim_job_poll,
    .job_abort = sim_job_abort,
    .job_free = sim_job_free,
    .locate = sim_locate,
    .now = sim_now,
    .sleep = sim_sleep,
    .job_find = sim_job_find,
    .cold_cleanup = sim_cold_cleanup,
};
