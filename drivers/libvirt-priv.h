/*
 * libvirt-priv.h: the inside of the libvirt driver, shared by its files
 * (libvirt-conn.c, -xml.c, -inventory.c, -sample.c, -migrate.c) and by the
 * tests that parse captured XML without a daemon.
 *
 * A VbConn holds one VbLvHost per configured host. Each host keeps at most one
 * libvirt connection, guarded by its mutex; callers borrow it through
 * vb_lv_host_connect(), which reopens a dropped connection and hands back a
 * reference of their own, so a host can be marked down or reconnected by one
 * thread while another still finishes a call on the old connection.
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "drivers/drivers.h"

G_BEGIN_DECLS

/* The XML namespace of virt-balancer's guest metadata (docs/libvirt.md). */
#define VB_LV_METADATA_NS "https://virt-balancer.org/xmlns/balancer/1"
#define VB_LV_METADATA_PREFIX "vb"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStoragePool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStorageVol, virStorageVolFree)

/* ------------------------------------------------------------ XML parsing */

/* What the driver reads from a host's capabilities XML. */
typedef struct {
    char *arch;         /* host/cpu/arch, e.g. "x86_64" */
    char *vendor;       /* host/cpu/vendor, or NULL when not reported */
    char *model;        /* host/cpu/model, or NULL */
    char **features;    /* host/cpu/feature/@name, in document order */
    char *host_uuid;    /* host/uuid, or NULL */
    gboolean kvm;       /* some guest/arch/domain has type kvm */
    char *cpu_xml;      /* the host/cpu element as XML, for CPU baseline calls */
} VbLvCaps;

/* One disk of a guest definition. */
typedef struct {
    char *target;       /* target/@dev, e.g. "vda" */
    char *device;       /* disk/@device: "disk", "lun" */
    char *source;       /* file path, block device, "pool/volume" or "protocol:name" */
    gboolean network;   /* type network (rbd, iscsi, nbd, ...): reachable from every host */
} VbLvDisk;

/* What the driver reads from a guest's domain XML. */
typedef struct {
    char *name;
    char *type;         /* domain/@type: "kvm", "qemu" */
    guint vcpus;        /* vcpu/@current, else vcpu */
    guint64 memory_mib; /* currentMemory, else memory, converted from its unit */
    char **cpu_features;/* cpu/feature with policy require or force */
    GPtrArray *disks;   /* owned VbLvDisk *; cdrom and floppy are left out */
    char **devices;     /* what pins it: "pci:0000:03:00.0", "usb:046d:c52b", "redirdev:usb" */
    char **tags;        /* metadata vb:tag texts */
    char **labels;      /* metadata vb:label texts */
    char *nvram;        /* os/nvram: the UEFI variables file on its host, or NULL */
} VbLvDomain;

/* Parse captured XML (transfer full). Malformed XML or a missing required
 * element gives NULL and VB_ERROR_INVALID_INPUT saying which. */
VbLvCaps *vb_lv_caps_parse(const char *xml, GError **error);
void vb_lv_caps_free(VbLvCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbLvCaps, vb_lv_caps_free)

/* The features a <cpu> element requires (policy require, force, or none):
 * for the expanded host CPU that libvirt's baseline call returns, where the
 * named model's own features are listed too (transfer full). */
char **vb_lv_cpu_features_parse(const char *xml, GError **error);

/* The format (target/format/@type: "qcow2", "raw") of a storage volume's
 * XML, or NULL (transfer full). */
char *vb_lv_volume_format(const char *xml);

VbLvDomain *vb_lv_domain_parse(const char *xml, GError **error);
void vb_lv_domain_free(VbLvDomain *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbLvDomain, vb_lv_domain_free)

/* Fill samples from libvirt's typed statistics (pure, for tests too): a
 * guest's from its virConnectGetAllDomainStats record, a host's CPU counters
 * (busy = kernel + user; total adds idle and iowait) and memory (free counts
 * buffers and page cache, which the kernel hands back on demand). */
void vb_lv_vm_sample_fill(VbVmSample *vm, const char *name, const virTypedParameter *params,
                          int n);
void vb_lv_node_cpu_fill(VbHostSample *sample, const virNodeCPUStats *params, int n);
void vb_lv_node_memory_fill(VbHostSample *sample, const virNodeMemoryStats *params, int n);

/* --------------------------------------------------------- connections */

typedef struct _VbLvAttempt VbLvAttempt;
typedef struct _VbLvPool VbLvPool;
typedef struct _VbLvDefs VbLvDefs;

typedef struct {
    gatomicrefcount refs;   /* the VbConn's, and one per call in flight */
    char *name;             /* as in the config */
    char *uri;              /* libvirt URI */
    char *pool;             /* the config pool it belongs to */
    gboolean shared_storage;/* the pool's disks are reachable from every host */
    char **labels;          /* config labels, added to what the host reports */
    char *migration_host;   /* address for tcp:// migration URIs, or NULL */
    char *cpu_vendor;       /* config override of the reported vendor, or NULL */
    guint timeout_seconds;  /* per connection attempt, and per call (its deadline) */
    GMutex lock;            /* guards the fields below */
    virConnectPtr conn;     /* NULL while down */
    char *reason;           /* why down ("kvm3: cannot connect: ..."), or NULL */
    VbLvAttempt *attempt;   /* the connection attempt in flight (at most one), or NULL */
    guint failures;         /* attempts failed in a row (0 once connected) */
    gint64 retry_at_us;     /* monotonic: no new attempt before this (backoff) */
    guint hung;             /* calls past their deadline still waiting in libvirt */
    gint64 hung_since_us;   /* monotonic: when the first of them missed its deadline */
    VbHostSample *prev;     /* the two latest samples, for snapshot load figures */
    VbHostSample *last;
    VbLvPool *workers;      /* the pool its calls run in (own reference) */
    guint64 conn_gen;       /* bumped each time `conn` becomes a new connection (0: never) */
    VbLvDefs *defs;         /* guest definitions kept between snapshots (libvirt-defs.c) */
} VbLvHost;

struct _VbConn {
    GPtrArray *hosts;       /* owned VbLvHost *, in config order */
    VbLvPool *workers;      /* the pool every call runs in (own reference) */
};

/* Starts libvirt's default event loop in its own thread and silences
 * libvirt's stderr error printing. Idempotent, thread-safe. */
void vb_lv_global_init(void);

/* Sets @error to "@host: @what: <libvirt's last error message>" with @code.
 * Always returns FALSE. */
gboolean vb_lv_error(GError **error, VbErrorCode code, const char *host, const char *what);

/* Opens @uri, giving up after @timeout_seconds (transfer full connection).
 * On failure sets @error (VB_ERROR_CONNECT or VB_ERROR_TIMEOUT) to
 * "@host: cannot connect: reason". */
virConnectPtr vb_lv_open_uri(const char *host, const char *uri, guint timeout_seconds,
                             GError **error);

/* A connection attempt that failed @failures times in a row waits this long
 * before the next one: 1, 2, 4 ... seconds, at most VB_LV_BACKOFF_MAX_SECONDS. */
#define VB_LV_BACKOFF_MAX_SECONDS 60
guint vb_lv_backoff_seconds(guint failures);

/* A reference to @host's live connection, opened when there is none
 * (transfer full: close it when done). At most one attempt per host is in
 * flight: a caller joins the one under way and waits at most until the
 * host's timeout counted from that attempt's start; after a failed attempt
 * the next waits its backoff. On failure NULL is returned with @error set
 * (VB_ERROR_TIMEOUT: no answer yet; VB_ERROR_CONNECT: refused, or waiting
 * for the next try) and the host's reason says why. */
virConnectPtr vb_lv_host_connect(VbLvHost *host, GError **error);

/* Told the deadline of a connection attempt about to run in this thread. */
typedef void (*VbLvConnecting)(gpointer data, gint64 deadline_us);
/* vb_lv_host_connect for a worker of the pool: a new attempt runs in the
 * calling thread (no thread is started), after @connecting is told its
 * deadline; past it the caller of the call reports the host as not
 * answering and the worker stays in libvirt until libvirt returns. */
virConnectPtr vb_lv_host_connect_here(VbLvHost *host, VbLvConnecting connecting, gpointer data,
                                      GError **error);
/* TRUE, with the error vb_lv_host_connect would give, when connecting
 * @host now would fail at once: an attempt past its timeout is still in
 * flight, or the next one waits its backoff. Cannot block. */
gboolean vb_lv_host_connect_pending(VbLvHost *host, GError **error);
/* Forgets @host's connection and records why (the next call reconnects). */
void vb_lv_host_mark_down(VbLvHost *host, const char *reason);
VbLvHost *vb_lv_conn_host(VbConn *conn, const char *name);
VbLvHost *vb_lv_host_ref(VbLvHost *host);
void vb_lv_host_unref(VbLvHost *host);

/* Work done on one host in a call with a deadline: runs in a worker thread
 * with a borrowed live connection of the host; returns a result (transfer
 * full, never NULL on success) or NULL with @error set. It may still run
 * after its caller gave up: @arg and @host stay valid until it returns. */
typedef gpointer (*VbLvCallFunc)(VbLvHost *host, virConnectPtr conn, gpointer arg,
                                 GError **error);

/* The workers every call to a host runs in (libvirt-calls.c): at most
 * @size at work; a worker whose call passed its deadline is replaced, and
 * at most @size more are held by hosts that do not answer (one per host at
 * most), so the pool never has more than 2 * @size threads, plus one that
 * watches the deadlines. Threads are started when calls need them and then
 * kept until vb_lv_pool_close. */
VbLvPool *vb_lv_pool_new(guint size);
VbLvPool *vb_lv_pool_ref(VbLvPool *pool);
void vb_lv_pool_unref(VbLvPool *pool);
/* Lets the workers at work end (waiting for them) and the held ones end
 * when libvirt returns. Calls made after it fail. */
void vb_lv_pool_close(VbLvPool *pool);

/* What the pool holds now, for tests and benchmarks. */
typedef struct {
    guint working;  /* workers able to take calls (running one, or idle) */
    guint held;     /* workers in a call past its deadline */
    guint peak;     /* most worker threads alive at once (working + held) */
    guint started;  /* worker threads started since the pool was made */
} VbLvPoolStats;
void vb_lv_pool_stats(VbLvPool *pool, VbLvPoolStats *ret_stats);

/* Every libvirt call the executor and the collectors make goes through one
 * of these: @func runs in a worker of the host's pool (host->workers) (connecting first
 * when needed) and must finish within the host's timeout, plus
 * @extra_seconds, plus the timeout again when the host has no connection
 * yet, counted from when a worker takes it (a call waiting for a worker
 * waits as long as the workers make progress). Past it, the caller gets
 * VB_ERROR_TIMEOUT "@host: not answering: no reply within N s" (also the
 * host's reason; "@host: cannot connect: timed out after N s" when the
 * connection attempt is what does not answer); the worker is left to finish
 * (its result is dropped with @result_free) and until it does, every new
 * call to that host fails at once without a worker: threads and sockets stay
 * bounded whatever a hung host does. When every worker the pool may have is
 * held by such hosts, calls fail at once ("not tried") until one returns.
 * @arg (owned, freed with @arg_free) is passed to @func. */
gpointer vb_lv_host_call(VbLvHost *host, VbLvCallFunc func, gpointer arg, GDestroyNotify arg_free,
                         GDestroyNotify result_free, guint extra_seconds, GError **error);

/* vb_lv_host_call on every host of @conn, as many at once as the pool has
 * workers, each with its own copy of @arg (a string, or NULL):
 * @ret_results[i] and @ret_errors[i] (arrays of the number of hosts, zeroed
 * by the caller) are host i's result or error. */
void vb_lv_hosts_call(VbConn *conn, VbLvCallFunc func, const char *arg, GDestroyNotify result_free,
                      gpointer *ret_results, GError **ret_errors);

/* ------------------------------------- definitions kept between snapshots */

/* A parsed guest definition, shared by a host's table and the snapshots that
 * use it; immutable (reference counted). */
typedef struct {
    gatomicrefcount refs;
    VbLvDomain *dom;        /* owned */
} VbLvDef;

/* Takes @dom (transfer full). */
VbLvDef *vb_lv_def_new(VbLvDomain *dom);
VbLvDef *vb_lv_def_ref(VbLvDef *def);
void vb_lv_def_unref(VbLvDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbLvDef, vb_lv_def_unref)

/* What a snapshot takes from a host's capabilities: parsed, expanded through
 * the CPU baseline call, kept per connection like the definitions (they
 * change with the host's software or hardware, across a libvirtd restart,
 * which is a new connection). Immutable (reference counted). */
typedef struct {
    gatomicrefcount refs;
    VbLvCaps *caps;         /* owned */
    char *hypervisor;       /* "kvm", else the driver type in lower case */
    char **cpu_features;    /* the host CPU's, its model's included */
} VbLvHostCaps;

/* Takes @caps, @hypervisor and @cpu_features (transfer full). */
VbLvHostCaps *vb_lv_host_caps_new(VbLvCaps *caps, char *hypervisor, char **cpu_features);
VbLvHostCaps *vb_lv_host_caps_ref(VbLvHostCaps *hc);
void vb_lv_host_caps_unref(VbLvHostCaps *hc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbLvHostCaps, vb_lv_host_caps_unref)

/* A host's table is emptied every this many of its snapshots (hosts take
 * turns, so a tenth of them read every definition again in each snapshot):
 * at most this many snapshots see a change that no domain event reports.
 * docs/libvirt.md says it. */
#define VB_LV_DEFS_REFRESH_SNAPSHOTS 10
/* Overrides it (1 to 1,000,000; anything else is ignored): tests and labs. */
#define VB_LV_DEFS_REFRESH_ENV "VIRT_BALANCER_DEFS_REFRESH"
/* The refresh period: the environment's, else the default. */
guint vb_lv_defs_refresh_every(void);

/* What a host's table did, for tests and benchmarks. */
typedef struct {
    guint64 events;         /* domain events received */
    guint64 kept_reads;     /* guests whose kept definition a snapshot used */
    guint64 fetches;        /* guests whose XML a snapshot fetched (keeping on) */
    guint64 refreshes;      /* times the table was emptied: new connection, safety refresh */
    guint64 caps_fetches;   /* capabilities a snapshot fetched (keeping on) */
    gboolean listening;     /* events are registered on the current connection */
    guint kept;             /* definitions held now */
} VbLvDefsStats;

/* A host's table, emptied every @every snapshots; @phase is its turn for
 * that (transfer full). */
VbLvDefs *vb_lv_defs_new(guint phase, guint every);
/* Ends @defs at the host's end, deregistering its event callbacks (an RPC:
 * on a host that stopped answering it waits until keepalive closes the
 * connection). Accepts NULL. */
void vb_lv_defs_close(VbLvDefs *defs);
/* Called by a host's snapshot in its worker, with @conn borrowed from
 * @host, before it reads guests: TRUE, with the connection's generation in
 * @ret_gen, when definitions may be looked up and kept for this read. On a
 * connection new to the table it empties the table and registers the domain
 * events (FALSE when libvirt refuses them: then every definition is read and
 * none kept, and the next snapshot tries again); every @every-th call (see
 * vb_lv_defs_new) empties the table. Cannot fail otherwise. */
gboolean vb_lv_defs_begin(VbLvHost *host, virConnectPtr conn, guint64 *ret_gen);
/* The kept definition of the guest @uuid (transfer full), or NULL; @ret_epoch
 * is for vb_lv_defs_keep. */
VbLvDef *vb_lv_defs_lookup(VbLvDefs *defs, const char *uuid, guint64 *ret_epoch);
/* Keeps @def (a new reference) for @uuid, unless an event arrived since the
 * lookup that gave @epoch or the connection changed since @gen. */
void vb_lv_defs_keep(VbLvDefs *defs, const char *uuid, VbLvDef *def, guint64 gen, guint64 epoch);
/* The host's kept capabilities (transfer full), or NULL. They are emptied
 * with the definitions (new connection, safety refresh), never by events. */
VbLvHostCaps *vb_lv_defs_caps_get(VbLvDefs *defs);
/* Keeps @hc (a new reference) unless the connection changed since @gen. */
void vb_lv_defs_caps_keep(VbLvDefs *defs, VbLvHostCaps *hc, guint64 gen);
/* Drops every definition whose UUID is not a key of @seen (guests gone). */
void vb_lv_defs_retain(VbLvDefs *defs, GHashTable *seen);
void vb_lv_defs_stats(VbLvDefs *defs, VbLvDefsStats *ret_stats);

/* ------------------------------------------------------------ the ops */

VbInventory *vb_lv_snapshot(VbConn *conn, GError **error);
VbSampleSet *vb_lv_sample(VbConn *conn, GError **error);
VbJob *vb_lv_migrate_start(VbConn *conn, const VbMigrationRequest *req, GError **error);
gboolean vb_lv_job_poll(VbConn *conn, VbJob *job, VbJobInfo *ret_info, GError **error);
gboolean vb_lv_job_abort(VbConn *conn, VbJob *job, GError **error);
void vb_lv_job_free(VbJob *job);
/* The flags of a live migration (peer-to-peer, persist on the destination,
 * undefine on the source, and the policy's options) of a guest in libvirt
 * @state/@reason on its source: one paused by a failed post-copy gets
 * POSTCOPY_RESUME, the only way to bring it back. Cannot fail. */
unsigned int vb_lv_migrate_flags(gboolean copy_storage, const VbMigrationSettings *s,
                                 int state, int reason);
VbJob *vb_lv_job_find(VbConn *conn, const char *vm, GError **error);
/* TRUE when libvirt's @state/@reason of a guest say a post-copy migration of
 * it failed (paused on the source, or paused/running on the destination,
 * its memory split between the two): the snapshot marks it on_two_hosts. */
gboolean vb_lv_state_postcopy_failed(int state, int reason);
GPtrArray *vb_lv_locate(VbConn *conn, const char *vm, GError **error);

/* Storage for guest disks on @host: the `default` pool's capacity and
 * available space, or the sum over active pools when there is no `default`.
 * No pool at all gives zeros. */
gboolean vb_lv_storage_get(VbLvHost *host, virConnectPtr conn, double *ret_total_gib,
                           double *ret_free_gib, GError **error);

/* Moves the shut-off guest @dom (on the source) to @dconn: local disks
 * copied (none when @shared_storage), defined there, undefined here, source
 * volumes deleted last; started there when @start_after. On failure the guest
 * is still defined on the source only; @ret_what says which step failed and
 * @ret_message why (transfer full; NULL: libvirt's last error). */
gboolean vb_lv_cold_move(virDomainPtr dom, virConnectPtr dconn, gboolean shared_storage,
                         gboolean start_after, const char **ret_what, char **ret_message);

/* ------------------------------------------------ partial copies */

/* A cold move marks each volume it creates on the destination with a second,
 * empty volume beside it, named like it plus this suffix, from just after
 * the copy is created until the guest is defined there (libvirt-partial.c). */
#define VB_LV_PARTIAL_SUFFIX ".vb-partial"

/* A volume a cold move copies: its storage pool and name, and its path,
 * which the copy has too on the destination. */
typedef struct {
    char *pool;
    char *name;
    char *path;
} VbLvVolRef;

void vb_lv_vol_ref_free(VbLvVolRef *ref);

/* The source volume of @disk (transfer full), or NULL with @ret_message. */
virStorageVolPtr vb_lv_disk_volume(virConnectPtr sconn, const VbLvDisk *disk, char **ret_message);

/* The volumes a cold move of @def copies from @sconn (VbLvVolRef *, transfer
 * full): its local disks unless @shared_storage, and its UEFI NVRAM; those in
 * no storage pool are left out (the move itself refuses them). Cannot fail. */
GPtrArray *vb_lv_cold_volumes(virConnectPtr sconn, const VbLvDomain *def, gboolean shared_storage);

/* Marks @vol, just created in @pool, as a partial copy of this program; on
 * failure sets @ret_message (transfer full). A marker already there (left by
 * an interrupted clean-up) is kept as it is. */
gboolean vb_lv_partial_mark(virStoragePoolPtr pool, virStorageVolPtr vol, char **ret_message);
/* Deletes the marked copy @vol, then its marker; FALSE (logged) when one
 * stays (a copy that cannot be deleted keeps its marker for a later sweep). */
gboolean vb_lv_partial_delete_copy(virStorageVolPtr vol);
/* TRUE when @vol carries a marker (a partial copy, or unknown: never taken
 * for a complete file). */
gboolean vb_lv_partial_is_marked(virStorageVolPtr vol);
/* Removes the marker of @vol (the guest now uses it). Cannot fail: one left
 * behind is only logged (a later sweep still finds @vol used). */
void vb_lv_partial_unmark(virStorageVolPtr vol);

/* Removes from @dconn the partial copies of @refs left by an interrupted cold
 * move: a volume is deleted only when its marker is there, it is at the
 * path of @refs, and no guest defined or running on @dconn names it (its
 * path or its name anywhere in their XML); then its marker goes. Appends
 * "pool/name" of each removed copy to @removed (may be NULL). FALSE with
 * @ret_message (transfer full) when the guests of @dconn cannot all be read:
 * then nothing was removed. */
gboolean vb_lv_cold_sweep(virConnectPtr dconn, GPtrArray *refs, GPtrArray *removed,
                          char **ret_message);

/* The driver op cold_cleanup (drivers.h). */
char **vb_lv_cold_cleanup(VbConn *conn, const char *vm, const char *from, const char *to,
                          GError **error);

/* Load figures for the snapshot from the host's two latest samples: host CPU
 * usage (0 without two samples) and memory in use; guest CPU usage by name. */
void vb_lv_host_apply_load(VbLvHost *host, VbInventory *inv, VbHost *vbhost);

G_END_DECLS
