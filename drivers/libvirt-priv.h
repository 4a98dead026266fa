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

typedef struct {
    char *name;             /* as in the config */
    char *uri;              /* libvirt URI */
    char *pool;             /* the config pool it belongs to */
    gboolean shared_storage;/* the pool's disks are reachable from every host */
    char **labels;          /* config labels, added to what the host reports */
    char *migration_host;   /* address for tcp:// migration URIs, or NULL */
    char *cpu_vendor;       /* config override of the reported vendor, or NULL */
    guint timeout_seconds;  /* per connection attempt */
    GMutex lock;            /* guards the fields below */
    virConnectPtr conn;     /* NULL while down */
    char *reason;           /* why down ("kvm3: cannot connect: ..."), or NULL */
    VbHostSample *prev;     /* the two latest samples, for snapshot load figures */
    VbHostSample *last;
} VbLvHost;

struct _VbConn {
    GPtrArray *hosts;       /* owned VbLvHost *, in config order */
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

/* A reference to @host's live connection, reopened when it dropped (transfer
 * full: close it when done). On failure the host is marked down with the
 * reason and NULL is returned with @error set. */
virConnectPtr vb_lv_host_connect(VbLvHost *host, GError **error);
/* Forgets @host's connection and records why (the next call reconnects). */
void vb_lv_host_mark_down(VbLvHost *host, const char *reason);
VbLvHost *vb_lv_conn_host(VbConn *conn, const char *name);

/* Runs @func(host, data) for every host of @conn in its own thread and waits
 * for all of them. */
void vb_lv_foreach_host_parallel(VbConn *conn, void (*func)(VbLvHost *host, gpointer data),
                                 gpointer data);

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

/* Load figures for the snapshot from the host's two latest samples: host CPU
 * usage (0 without two samples) and memory in use; guest CPU usage by name. */
void vb_lv_host_apply_load(VbLvHost *host, VbInventory *inv, VbHost *vbhost);

G_END_DECLS
