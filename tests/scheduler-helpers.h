/*
 * scheduler-helpers.h: what the scheduler's test programs share: small pools
 * built in C, hand-made plans, a run harness over the sim driver with a
 * journal in a temporary database, and the concurrency peaks computed back
 * from the journal's events (the executor's own record, not its counters).
 */
#pragma once

#include <glib/gstdio.h>
#include <math.h>

#include "scheduler/scheduler.h"
#include "tests/testutil.h"

/* A pool "p" of @n_hosts hosts h0.. (Intel, kvm, @cores cores, @memory_mib,
 * 1000 GiB storage, migration bandwidth @bw MiB/s, shared storage). */
static inline VbInventory *
th_pool(guint n_hosts, guint cores, guint64 memory_mib, double bw)
{
    VbInventory *inv = vb_inventory_new();
    VbPool *pool = vb_inventory_add_pool(inv, "p", NULL);

    pool->shared_storage = TRUE;
    for (guint i = 0; i < n_hosts; i++) {
        g_autofree char *name = g_strdup_printf("h%u", i);
        VbHost *h = vb_inventory_add_host(inv, pool, name, NULL);

        h->hypervisor = g_strdup("kvm");
        h->cpu_vendor = g_strdup("Intel");
        h->cpu_cores = cores;
        h->memory_mib = memory_mib;
        h->storage_total_gib = 1000;
        h->storage_free_gib = 1000;
        h->migration_bandwidth_mib_s = bw;
    }
    return inv;
}

/* A running guest of @memory_mib on host @host (counted in its measured memory). */
static inline VbVm *
th_vm(VbInventory *inv, const char *host, const char *name, guint64 memory_mib, double local_gib)
{
    VbHost *h = vb_inventory_get_host(inv, host);
    VbVm *vm = vb_inventory_add_vm(inv, h, name, NULL);

    vm->vcpus = 1;
    vm->memory_mib = memory_mib;
    vm->cpu_usage = 0.5;
    h->memory_used_mib += memory_mib;
    h->cpu_usage += 0.5 / h->cpu_cores;
    if (local_gib > 0)
        vb_vm_add_disk(vm, "vda", local_gib, FALSE);
    return vm;
}

/* A plan moving each named guest to a host: @pairs is "vm", "host", ...,
 * NULL. Estimates from vb_placement_estimate_seconds (what the sim takes). */
static inline VbPlan *
th_plan(const VbInventory *inv, const VbPolicy *policy, VbPlanKind kind,
        const char *evacuated, const char *const *pairs)
{
    VbPlan *plan = g_new0(VbPlan, 1);

    plan->kind = kind;
    plan->evacuated_host = g_strdup(evacuated);
    plan->moves = g_array_new(FALSE, TRUE, sizeof(VbMove));
    plan->unplaced = g_ptr_array_new();
    for (guint i = 0; pairs[i]; i += 2) {
        const VbVm *vm = vb_inventory_get_vm(inv, pairs[i]);
        const VbHost *to = vb_inventory_get_host(inv, pairs[i + 1]);
        VbMove mv = { 0 };

        g_assert(vm && to);
        mv.vm = vm->id;
        mv.from = vm->host;
        mv.to = to->id;
        mv.kind = vm->state == VB_VM_STATE_SHUTOFF     ? VB_MOVE_COLD
                  : vb_vm_local_disk_gib(vm) > 0 ? VB_MOVE_LIVE_STORAGE
                                                 : VB_MOVE_LIVE;
        mv.estimated_seconds = vb_placement_estimate_seconds(
            inv, policy, vm, vb_inventory_host(inv, mv.from), to, mv.kind);
        mv.reason = g_strdup("test");
        g_array_append_val(plan->moves, mv);
    }
    return plan;
}

/* A journal in a fresh database file under a temporary folder. */
typedef struct {
    char *dir;
    char *path;
    VbStore *store;
    VbJournal *journal;
} ThDb;

static inline void
th_db_open(ThDb *db)
{
    g_autoptr(GError) error = NULL;

    db->dir = g_dir_make_tmp("vb-sched-XXXXXX", &error);
    ck_assert_msg(db->dir, "%s", error ? error->message : "");
    db->path = g_build_filename(db->dir, "state.db", NULL);
    db->store = vb_store_open(db->path, &error);
    ck_assert_msg(db->store, "%s", error ? error->message : "");
    db->journal = vb_journal_open(db->store, &error);
    ck_assert_msg(db->journal, "%s", error ? error->message : "");
}

static inline void
th_db_close(ThDb *db)
{
    g_autofree char *wal = g_strconcat(db->path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(db->path, "-shm", NULL);

    g_clear_pointer(&db->journal, vb_journal_free);
    g_clear_pointer(&db->store, vb_store_free);
    g_unlink(db->path);
    g_unlink(wal);
    g_unlink(shm);
    g_rmdir(db->dir);
    g_free(db->path);
    g_free(db->dir);
}

/* Concurrency peaks replayed from the journal's events of @plan. */
typedef struct {
    guint total;
    guint per_source;
    guint per_destination;
    guint storage_per_pool;
} ThPeak;

/* Live-storage moves in @running touching pool @pool. */
static inline guint
th_storage_in_pool(GPtrArray *running, const VbInventory *inv, guint pool)
{
    guint n = 0;

    for (guint i = 0; i < running->len; i++) {
        const VbJournalEvent *r = g_ptr_array_index(running, i);

        n += r->kind == VB_MOVE_LIVE_STORAGE &&
             (vb_inventory_get_host(inv, r->from)->pool == pool ||
              vb_inventory_get_host(inv, r->to)->pool == pool);
    }
    return n;
}

static inline guint
th_count(GPtrArray *running, const VbInventory *inv, const VbJournalEvent *e, int what)
{
    guint n = 0;

    if (what == 2)
        return MAX(th_storage_in_pool(running, inv, vb_inventory_get_host(inv, e->from)->pool),
                   th_storage_in_pool(running, inv, vb_inventory_get_host(inv, e->to)->pool));
    for (guint i = 0; i < running->len; i++) {
        const VbJournalEvent *r = g_ptr_array_index(running, i);

        n += what == 0 ? g_str_equal(r->from, e->from) : g_str_equal(r->to, e->to);
    }
    return n;
}

static inline ThPeak
th_peaks(VbJournal *journal, gint64 plan, const VbInventory *inv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) events = vb_journal_events(journal, plan, &error);
    g_autoptr(GPtrArray) running = g_ptr_array_new();
    ThPeak peak = { 0 };

    ck_assert_msg(events, "%s", error ? error->message : "");
    for (guint i = 0; i < events->len; i++) {
        VbJournalEvent *e = g_ptr_array_index(events, i);

        for (guint j = 0; j < running->len; j++) {
            if (((VbJournalEvent *) g_ptr_array_index(running, j))->move == e->move)
                g_ptr_array_remove_index(running, j--);
        }
        if (e->state != VB_MOVE_STATE_STARTED)
            continue;
        g_ptr_array_add(running, e);
        peak.total = MAX(peak.total, running->len);
        peak.per_source = MAX(peak.per_source, th_count(running, inv, e, 0));
        peak.per_destination = MAX(peak.per_destination, th_count(running, inv, e, 1));
        peak.storage_per_pool = MAX(peak.storage_per_pool, th_count(running, inv, e, 2));
    }
    return peak;
}

/* The newest plan id of the journal. */
static inline gint64
th_last_plan(VbJournal *journal)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) plans = vb_journal_history(journal, 1, &error);

    ck_assert_msg(plans && plans->len == 1, "no plan in the journal: %s",
                  error ? error->message : "");
    return ((VbJournalPlan *) g_ptr_array_index(plans, 0))->id;
}

/* Name of the host @vm is on in the sim pool. */
static inline const char *
th_where(VbConn *conn, const char *vm)
{
    const VbInventory *inv = vb_sim_conn_inventory(conn);

    return vb_inventory_host(inv, vb_inventory_get_vm(inv, vm)->host)->name;
}

/* tests/scheduler-test-crash.c: crash recovery, the lock, maintenance and
 * the evacuation makespan; adds its cases to @s. */
void scheduler_suite_crash(Suite *s);
/* tests/scheduler-test-costs.c: migration costs measured from the journal. */
void scheduler_suite_costs(Suite *s);
void scheduler_suite_recent(Suite *s);
