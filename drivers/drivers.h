/*
 * drivers.h: how virt-balancer talks to hypervisors. One small table of
 * operations, filled by each driver:
 *   sim      a simulated pool loaded from an inventory file; migrations take
 *            simulated time (memory, dirty rate, bandwidth) on a virtual clock;
 *   libvirt  real hosts through libvirt, one connection per host.
 * Only this folder speaks libvirt's virError; everything above sees VB_ERROR.
 *
 * The executor, collectors and CLI use a driver only through these ops, and a
 * contract test (tests/drivers-contract-test.c) runs every registered driver
 * through the same checks.
 *
 * Time: drivers own the clock the executor uses (now/sleep), so a sim run of
 * an hour of migrations takes milliseconds, and the same executor code drives
 * real migrations in real time.
 */
#pragma once

#include <glib.h>

#include "policies/policies.h"
#include "pool/pool.h"

G_BEGIN_DECLS

typedef struct _VbConn VbConn; /* a driver's open connection to a pool */
typedef struct _VbJob VbJob;   /* one migration in flight */

/* Raw counters of one guest at one instant. */
typedef struct {
    char *name;
    guint vcpus;
    guint64 cpu_time_ns;      /* cumulative CPU time */
    guint64 memory_mib;       /* given memory (balloon current) */
    guint64 rss_mib;          /* resident on the host, 0 = unknown */
    guint64 disk_allocation_mib; /* space its disks use on the host */
    gboolean running;
} VbVmSample;

/* Raw counters of one host at one instant. */
typedef struct {
    char *host;
    gboolean up;              /* FALSE: reason says why, counters are 0 */
    char *reason;
    gint64 timestamp_us;      /* wall clock (g_get_real_time) of the sample */
    gint64 monotonic_us;      /* the driver's clock, for deltas */
    guint cpu_cores;
    guint64 cpu_busy_ns;      /* cumulative busy time, all cores */
    guint64 cpu_total_ns;     /* cumulative busy + idle, all cores */
    guint64 memory_total_mib;
    guint64 memory_free_mib;
    double storage_total_gib;
    double storage_free_gib;
    GArray *vms;              /* VbVmSample */
} VbHostSample;

/* One sample of every host (transfer full; free with vb_sample_set_free). */
typedef struct {
    GPtrArray *hosts;         /* owned VbHostSample * */
} VbSampleSet;

void vb_sample_set_free(VbSampleSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbSampleSet, vb_sample_set_free)

typedef enum {
    VB_JOB_RUNNING,
    VB_JOB_COMPLETED,
    VB_JOB_FAILED,    /* message says why; the guest is still on its source */
    VB_JOB_ABORTED,   /* aborted on request; the guest is still on its source */
    VB_JOB_STATE_LAST
} VbJobState;

typedef struct {
    VbJobState state;
    double progress;          /* 0..1 */
    guint64 remaining_mib;    /* data left to send, when known */
    double elapsed_seconds;
    char *message;            /* failure reason (transfer full), or NULL */
} VbJobInfo;

/* What one migration must do. */
typedef struct {
    const char *vm;
    const char *from;         /* host names */
    const char *to;
    gboolean live;            /* FALSE: cold move of a shut-off guest */
    gboolean copy_storage;    /* copy non-shared disks (live-storage) */
    const VbMigrationSettings *settings; /* bandwidth, compression, ... */
} VbMigrationRequest;

/* Where a guest is, for reconciliation after a crash. */
typedef struct {
    char *host;               /* a host that has it defined or running */
    gboolean running;         /* running (or paused) there */
    gboolean persistent;      /* defined there */
} VbVmLocation;

/*
 * The ops table. Required: name, open, close, snapshot, sample,
 * migrate_start, job_poll, job_abort, locate, now, sleep.
 * Every fallible op sets a VB_ERROR on failure, with the host's name and the
 * real reason in the message ("kvm3: cannot connect: authentication failed").
 */
typedef struct {
    const char *name;
    /* Opens the pool described by @config (transfer full). Unreachable hosts
     * are not an error: they show as down in snapshots. */
    VbConn *(*open)(const VbConfig *config, GError **error);
    void (*close)(VbConn *conn);
    /* The pool now: topology, guests, and the driver's latest load figures
     * (transfer full). Hosts that cannot be reached are state DOWN with a reason. */
    VbInventory *(*snapshot)(VbConn *conn, GError **error);
    /* Raw counters of every host, sampled concurrently (transfer full). */
    VbSampleSet *(*sample)(VbConn *conn, GError **error);
    /* Starts a migration and returns at once (transfer full job). */
    VbJob *(*migrate_start)(VbConn *conn, const VbMigrationRequest *req, GError **error);
    /* Fills @ret_info; FALSE only when the job cannot be queried at all. */
    gboolean (*job_poll)(VbConn *conn, VbJob *job, VbJobInfo *ret_info, GError **error);
    /* Asks the migration to stop; the guest stays on its source. */
    gboolean (*job_abort)(VbConn *conn, VbJob *job, GError **error);
    /* Frees a job that is no longer running. */
    void (*job_free)(VbJob *job);
    /* Every host that has @vm defined or running (transfer full GPtrArray of
     * VbVmLocation *, empty when nowhere); hosts that are down are skipped. */
    GPtrArray *(*locate)(VbConn *conn, const char *vm, GError **error);
    /* The driver's monotonic clock in seconds, and a wait on it. */
    double (*now)(VbConn *conn);
    void (*sleep)(VbConn *conn, double seconds);
    /* Optional (may be NULL): the migration of @vm in flight from this
     * program or another one (transfer full), or NULL when none runs: with
     * an error naming a host that does not answer (it may hold the
     * migration), without one when every host answered. Used to re-attach
     * to a migration after a crash. */
    VbJob *(*job_find)(VbConn *conn, const char *vm, GError **error);
    /* Optional (may be NULL): removes what an interrupted cold move of @vm
     * from @from to @to left on @to: the partial disk copies this driver
     * marked as its own while copying and that no guest on @to uses, never
     * anything else (docs/libvirt.md). For a guest defined on @from and not
     * on @to. Returns what it removed, NULL-terminated (transfer full; empty
     * when nothing was left), or NULL with an error when a host cannot be
     * read. */
    char **(*cold_cleanup)(VbConn *conn, const char *vm, const char *from, const char *to,
                           GError **error);
} VbDriverOps;

/* Every registered driver, NULL-terminated. */
extern const VbDriverOps *const vb_drivers[];
extern const VbDriverOps vb_driver_sim;
extern const VbDriverOps vb_driver_libvirt;

/* The driver called @name, or NULL. */
const VbDriverOps *vb_driver_find(const char *name);

void vb_vm_location_free(VbVmLocation *loc);
void vb_job_info_clear(VbJobInfo *info);

/* Builders shared by drivers: an empty sample set, and an empty host sample
 * named @host whose vms array frees each VbVmSample's name (transfer full).
 * Both free functions accept NULL. */
VbSampleSet *vb_sample_set_new(void);
VbHostSample *vb_host_sample_new(const char *host);
void vb_host_sample_free(VbHostSample *sample);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbHostSample, vb_host_sample_free)

/* Sim only: the inventory inside a sim connection (transfer none), for
 * what-if runs and tests that want to inspect or change the simulated pool. */
VbInventory *vb_sim_conn_inventory(VbConn *conn);

/* Sim only: opens a simulated pool on @inv (transfer full) without a file. */
VbConn *vb_sim_conn_new(VbInventory *inv);
/* Sim only, fault injection for tests (times are on the sim's virtual clock,
 * in seconds from its start):
 *  - @host goes down at @at: its migrations in flight fail, it shows DOWN;
 *  - the next @times migrations of @vm fail half way (guest stays on source);
 *  - migrations of @vm take @factor times their estimate (for timeouts).
 * Unknown names are accepted and simply never match. */
void vb_sim_fail_host_at(VbConn *conn, const char *host, double at);
void vb_sim_fail_migrations(VbConn *conn, const char *vm, guint times);
void vb_sim_slow_migrations(VbConn *conn, const char *vm, double factor);
/* Sim only: the program that copies the disks of cold moves is killed (a
 * crash of virt-balancer): every cold move in flight stops, its guest on its
 * source, leaving the part of its local disks already copied on its
 * destination; a cold move of that guest there fails until cold_cleanup.
 * vb_sim_n_partial_copies counts the copies left. */
void vb_sim_kill_copier(VbConn *conn);
guint vb_sim_n_partial_copies(VbConn *conn);
/* Sim only: migrations started since open (all outcomes), for tests. */
guint vb_sim_n_migrations(VbConn *conn);

G_END_DECLS
