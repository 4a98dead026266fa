/*
 * pool.h: the model. Pools of hosts, the guests on them, their resources and
 * measured load; plus the inventory file format that describes them.
 *
 * A VbInventory is a snapshot: everything the planners need to decide, in
 * plain structs with no I/O behind them. Drivers produce one (sim by loading a
 * file, libvirt by asking real hosts); placement reads one and never changes
 * it. Hosts, guests and pools are referred to by dense indices (`id`), so that
 * planners can keep per-host arrays instead of hash lookups.
 *
 * Ownership: the inventory owns every pool, host and guest and all their
 * strings. Pointers returned by the getters are valid as long as the inventory.
 *
 * Units: memory in MiB, storage in GiB, bandwidth and dirty rate in MiB/s,
 * cpu_usage as a fraction 0..1 (of the host's cores, or of the guest's vCPUs).
 */
#pragma once

#include <glib.h>

#include "util/util.h"

G_BEGIN_DECLS

typedef enum {
    VB_HOST_STATE_UP,
    VB_HOST_STATE_MAINTENANCE,
    VB_HOST_STATE_DOWN,
    VB_HOST_STATE_LAST
} VbHostState;

typedef enum {
    VB_VM_STATE_RUNNING,
    VB_VM_STATE_PAUSED,
    VB_VM_STATE_SHUTOFF,
    VB_VM_STATE_LAST
} VbVmState;

/* How a guest's CPU is defined (libvirt's <cpu mode>). */
typedef enum {
    VB_CPU_MODE_CUSTOM,           /* a named model (or the hypervisor's default) and features */
    VB_CPU_MODE_HOST_MODEL,       /* the host's model, fixed when the guest starts */
    VB_CPU_MODE_HOST_PASSTHROUGH, /* the host's CPU as it is */
    VB_CPU_MODE_MAXIMUM,          /* everything the hypervisor offers (like passthrough on KVM) */
    VB_CPU_MODE_LAST
} VbCpuMode;

/* "up", "maintenance", "down" / "running", "paused", "shutoff". */
const char *vb_host_state_to_string(VbHostState state);
gboolean vb_host_state_from_string(const char *name, VbHostState *ret_state);
const char *vb_vm_state_to_string(VbVmState state);
gboolean vb_vm_state_from_string(const char *name, VbVmState *ret_state);
/* NULL-terminated name lists, for YAML enum readers and help texts. */
extern const char *const vb_host_state_names[];
extern const char *const vb_vm_state_names[];
/* "custom", "host-model", "host-passthrough", "maximum" (libvirt's names). */
const char *vb_cpu_mode_to_string(VbCpuMode mode);
extern const char *const vb_cpu_mode_names[];

typedef struct {
    char *name;       /* target name, e.g. "vda" */
    double size_gib;  /* capacity of the disk */
    gboolean shared;  /* on storage every host of the pool reaches */
} VbDisk;

typedef struct {
    char *name;             /* unique in the inventory */
    guint id;               /* index in VbInventory.pools */
    gboolean shared_storage;/* guests' disks are reachable from every host */
    GArray *hosts;          /* guint host ids, in file order */
} VbPool;

typedef struct {
    char *name;                       /* unique in the inventory */
    guint id;                         /* index in VbInventory.hosts */
    guint pool;                       /* index in VbInventory.pools */
    char *uri;                        /* libvirt URI, or NULL (sim) */
    char *hypervisor;                 /* "kvm", "qemu", ... */
    char *cpu_vendor;                 /* "Intel", "AMD", ... */
    char *cpu_model;                  /* e.g. "EPYC-Rome" */
    guint cpu_cores;                  /* logical CPUs usable by guests */
    VbBits cpu_features;              /* ids in VbInventory.features */
    guint64 memory_mib;               /* physical memory */
    double storage_total_gib;         /* local storage for guest disks */
    double storage_free_gib;          /* of which free */
    VbHostState state;                /* up / maintenance / down */
    char *state_reason;               /* why down or in maintenance, or NULL */
    VbBits labels;                    /* ids in VbInventory.labels */
    double cpu_usage;                 /* measured, 0..1 of cpu_cores */
    double cpu_stddev;                /* measured: standard deviation of cpu_usage
                                       * between samples over the window, 0 = unknown */
    guint64 memory_used_mib;          /* measured, guests and host itself */
    double migration_bandwidth_mib_s; /* usable for migrations, 0 = unknown */
    GArray *vms;                      /* guint vm ids on this host */
} VbHost;

typedef struct {
    char *name;               /* unique in the inventory */
    guint id;                 /* index in VbInventory.vms */
    guint host;               /* index in VbInventory.hosts */
    VbVmState state;          /* running / paused / shutoff */
    guint vcpus;              /* virtual CPUs */
    guint64 memory_mib;       /* memory given to the guest */
    double cpu_usage;         /* measured, 0..1 of vcpus */
    double dirty_rate_mib_s;  /* memory dirtied per second while running */
    VbBits cpu_features;      /* features it needs, ids in VbInventory.features; with a
                               * named model, the model's own features too */
    VbDisk *disks;            /* n_disks entries, owned */
    guint n_disks;
    char **devices;           /* pass-through devices ("pci:0000:03:00.0", "usb:..."): pin it */
    char **tags;              /* free tags; "no-migrate" pins it */
    VbBits labels;            /* ids in VbInventory.labels */
    gint64 last_migrated;     /* unix seconds of its last migration, 0 = never */
    guint moves_last_day;     /* migrations in the 24 h before the snapshot (the journal's,
                               * the sim's own), 0 = none known: budget.max_moves_per_vm_per_day */
    VbCpuMode cpu_mode;       /* how its CPU is defined (zero: custom) */
    char *cpu_model;          /* custom/host-model: the named model (cpu_features hold its
                               * features); passthrough/maximum: the CPU model of the host it
                               * runs on; or NULL */
    gboolean on_two_hosts;    /* running or paused on two hosts at once (a failed post-copy
                               * leaves it paused on both, its memory split between them;
                               * or a migration in flight): planners leave it alone */
} VbVm;

/* Migration costs measured from finished migrations (the journal's start and
 * end times), which vb_placement_estimate_seconds() prefers to the hosts'
 * nominal bandwidth and the policy's setup term (docs/placement.md,
 * "Measured costs"). Empty in inventories loaded from files or generated;
 * filled by the reader of the journal (scheduler/) through
 * vb_placement_calibration_apply(). */
typedef struct {
    gboolean setup_measured;    /* setup_seconds is in force (measured, or the one the
                                 * measured bandwidths were computed against) */
    double setup_seconds;       /* setup + switch-over of one live migration */
    GHashTable *pair_bandwidth; /* gint64 (from id << 32 | to id) -> double MiB/s, or NULL */
} VbMigrationCosts;

typedef struct {
    GPtrArray *pools;     /* owned VbPool *, index = id */
    GPtrArray *hosts;     /* owned VbHost *, index = id */
    GPtrArray *vms;       /* owned VbVm *, index = id */
    GHashTable *pool_by_name; /* name -> VbPool * (borrowed) */
    GHashTable *host_by_name; /* name -> VbHost * (borrowed) */
    GHashTable *vm_by_name;   /* name -> VbVm * (borrowed) */
    VbStrtab *features;   /* CPU feature names */
    VbStrtab *labels;     /* host and guest label names */
    struct _VbHostTotals *totals; /* cache of vb_inventory_host_totals(), or NULL */
    GPtrArray *host_blocks; /* owned arrays of VbHost the hosts live in, by id: a
                             * planner reads every host in id order, and hosts
                             * allocated one by one among their guests were each
                             * a cache and TLB miss */
    VbHost *host_next;      /* next free slot of the last block */
    guint host_left;        /* free slots left in the last block */
    GPtrArray *vm_blocks;   /* owned arrays of VbVm the guests live in, by id (the
                             * same, and one allocation and free fewer per guest) */
    VbVm *vm_next;          /* next free slot of the last block */
    guint vm_left;          /* free slots left in the last block */
    GPtrArray *name_blocks; /* owned text blocks holding the guests' names */
    char *name_next;        /* next free byte of the last block */
    gsize name_left;        /* free bytes left in the last block */
    VbMigrationCosts costs; /* measured migration costs (empty: nothing measured) */
} VbInventory;

#define VB_TAG_NO_MIGRATE "no-migrate"

/* ------------------------------------------------------------- building */

VbInventory *vb_inventory_new(void);
/* Accepts NULL and half-built inventories. */
void vb_inventory_free(VbInventory *inv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbInventory, vb_inventory_free)

/* Adders return the new object (transfer none), zero-filled but for name, id
 * and owner; or NULL with VB_ERROR_INVALID_INPUT when the name is empty or
 * already taken ("host 'kvm1' is defined twice"). */
VbPool *vb_inventory_add_pool(VbInventory *inv, const char *name, GError **error);
VbHost *vb_inventory_add_host(VbInventory *inv, VbPool *pool, const char *name,
                              GError **error);
VbVm *vb_inventory_add_vm(VbInventory *inv, VbHost *host, const char *name,
                          GError **error);
/* Interning of names into the inventory's tables (never fails). */
void vb_host_add_feature(VbInventory *inv, VbHost *host, const char *feature);
void vb_host_add_label(VbInventory *inv, VbHost *host, const char *label);
void vb_vm_add_feature(VbInventory *inv, VbVm *vm, const char *feature);
void vb_vm_add_label(VbInventory *inv, VbVm *vm, const char *label);
/* Appends a disk (the name is copied). */
void vb_vm_add_disk(VbVm *vm, const char *name, double size_gib, gboolean shared);

/* Moves @vm to @host in the model (host vm lists follow). For what-if and the
 * sim driver; planners never change an inventory. */
void vb_inventory_move_vm(VbInventory *inv, VbVm *vm, VbHost *host);

/* A deep copy (transfer full), measured costs included. Never fails. */
VbInventory *vb_inventory_copy(const VbInventory *inv);

/* The measured bandwidth of migrations from host @from to host @to (ids), in
 * MiB/s; @mib_s <= 0 forgets it. The getter gives 0 when none was measured. */
void vb_inventory_set_pair_bandwidth(VbInventory *inv, guint from, guint to, double mib_s);
double vb_inventory_pair_bandwidth(const VbInventory *inv, guint from, guint to);

/* ------------------------------------------------------------- reading */

VbPool *vb_inventory_get_pool(const VbInventory *inv, const char *name);
VbHost *vb_inventory_get_host(const VbInventory *inv, const char *name);
VbVm *vb_inventory_get_vm(const VbInventory *inv, const char *name);
#define vb_inventory_pool(inv, id) ((VbPool *) g_ptr_array_index((inv)->pools, (id)))
#define vb_inventory_host(inv, id) ((VbHost *) g_ptr_array_index((inv)->hosts, (id)))
#define vb_inventory_vm(inv, id) ((VbVm *) g_ptr_array_index((inv)->vms, (id)))

/* Derived facts about a guest. */
double vb_vm_disk_gib(const VbVm *vm);        /* all disks */
double vb_vm_local_disk_gib(const VbVm *vm);  /* disks not shared: copied when it moves */
gboolean vb_vm_has_tag(const VbVm *vm, const char *tag);
/* TRUE when something pins the guest to its host: a pass-through device or the
 * no-migrate tag. When @ret_why is not NULL it gets a sentence saying which
 * (transfer full). */
gboolean vb_vm_is_pinned(const VbVm *vm, char **ret_why);
/* Memory (MiB) and vCPUs given to the guests on @host that are not shut off. */
guint64 vb_host_allocated_memory_mib(const VbInventory *inv, const VbHost *host);
guint vb_host_allocated_vcpus(const VbInventory *inv, const VbHost *host);

/* Per-host sums over the host's guests, what the planners start from. */
typedef struct _VbHostTotals {
    guint64 memory_mib;     /* memory of its guests not shut off */
    guint vcpus;            /* vCPUs of its guests not shut off */
    double disk_gib;        /* every disk of every guest, summed in guest id order */
    double local_disk_gib;  /* disks not shared, every guest, in guest id order */
} VbHostTotals;

/* The totals of every host, an array indexed by host id (transfer none,
 * valid until the inventory changes). Why it cannot go stale: it is a cache
 * that every function of pool.c that changes guests or hosts (the adders,
 * vb_inventory_move_vm) drops, and that is rebuilt in
 * O(guests) by the first reader after a change. Loading, generating and
 * copying build it before they return, so the planners never pay for it on
 * those inventories. The one rule for producers: a guest's state, vCPUs,
 * memory, host or disks changed directly or by vb_vm_add_disk() (which does
 * not see the inventory) after a reader already asked must be followed by
 * vb_inventory_changed(). Not thread-safe
 * while the cache is being rebuilt: one planning thread per inventory. */
const VbHostTotals *vb_inventory_host_totals(const VbInventory *inv);
/* Drops the cached totals after guest fields were written directly. */
void vb_inventory_changed(VbInventory *inv);

/* ---------------------------------------------------- the inventory file */

/* The largest inventory file read: 200,000 guests take about 40 MiB. */
#define VB_INVENTORY_MAX_BYTES (512 * 1024 * 1024)

/* Loads the YAML inventory format (docs/inventory.md), transfer full. Every
 * mistake (unknown key, wrong type, guest on an unknown host, duplicate
 * names, negative sizes, a name with a control character, a file above
 * VB_INVENTORY_MAX_BYTES, ...) gives NULL and VB_ERROR_INVALID_INPUT with
 * "file:line:column: what is wrong"; an unreadable file gives VB_ERROR_IO. */
VbInventory *vb_inventory_load_file(const char *path, GError **error);
VbInventory *vb_inventory_load_data(const char *data, gsize len, const char *filename,
                                    GError **error);
/* Writes @inv in the same format (transfer full); loading the result gives an
 * equal inventory. Never fails. */
char *vb_inventory_to_yaml(const VbInventory *inv);


/* ---------------------------------------------------- generated pools */

/* What vb_inventory_generate() makes. Fractions are of hosts, pools or
 * guests as named, each 0..1. Start from vb_generate_params_init(). */
typedef struct {
    guint n_pools;                 /* pools (default 3) */
    guint n_hosts;                 /* hosts, spread evenly over the pools (default 12) */
    guint n_vms;                   /* guests (default 240) */
    guint64 seed;                  /* same seed and params give the same pool */
    double memory_fill;            /* guest memory / usable host memory, whole pool (0.55) */
    double hot_fraction;           /* hosts that attract `hot_weight` times more guests (0.1) */
    double hot_weight;             /* (4) */
    double local_pool_fraction;    /* pools without shared storage (0.25) */
    double mixed_vendor_fraction;  /* pools mixing Intel and AMD hosts (0.2) */
    double qemu_fraction;          /* hosts running plain qemu (TCG) rather than kvm (0.02) */
    double old_cpu_fraction;       /* hosts lacking the newest CPU features (0.15) */
    double maintenance_fraction;   /* hosts in maintenance, keeping their guests (0.02) */
    double down_fraction;          /* hosts down, without guests (0.01) */
    double no_migrate_fraction;    /* guests tagged no-migrate (0.02) */
    double passthrough_fraction;   /* guests with a PCI pass-through device (0.01) */
    double shutoff_fraction;       /* guests shut off (0.04); paused: a quarter of that */
} VbGenerateParams;

/* Fills @params with the defaults above. */
void vb_generate_params_init(VbGenerateParams *params);
/* A deterministic pseudo-random inventory (transfer full), for property
 * tests, the quality oracle and the benchmarks: hosts of mixed sizes, CPU
 * vendors and feature sets; guests of mixed sizes with a skewed spread (some
 * hosts hot), some pinned, some on local disks. Every guest fits its host
 * (running memory within the host's memory, CPU features present, local
 * disks within its storage), so the result is a valid starting point.
 * Never fails; zero hosts or pools give an inventory without guests. */
VbInventory *vb_inventory_generate(const VbGenerateParams *params);

/* ------------------------------------------------------ the main config */

/* One host as the main config declares it (docs/config.md). */
typedef struct {
    char *name;            /* as shown everywhere */
    char *uri;             /* libvirt URI: qemu+ssh://, qemu+tls://, qemu+unix:// */
    char **labels;         /* admin labels, added to what the host reports */
    char *migration_host;  /* address migrations to this host use (tcp://ADDR), or NULL */
    char *cpu_vendor;      /* override of the reported vendor (labs), or NULL */
    guint line, column;    /* where it is declared */
} VbConfigHost;

typedef struct {
    char *name;
    gboolean shared_storage;
    GPtrArray *hosts;      /* owned VbConfigHost * */
} VbConfigPool;

typedef struct {
    char *filename;                 /* where it was loaded from */
    char *driver;                   /* "libvirt" or "sim" */
    char *inventory;                /* sim: the inventory file */
    GPtrArray *pools;               /* owned VbConfigPool * (libvirt) */
    char *policy;                   /* policy file, or NULL for defaults */
    char *database;                 /* history and journal (SQLite) */
    guint sample_interval_seconds;  /* between two samples (daemon) */
    guint window_seconds;           /* planning averages over this window */
    guint retention_seconds;        /* samples older than this are deleted */
    guint rebalance_interval_seconds; /* between two rebalances (daemon) */
    guint connect_timeout_seconds;  /* per host connection attempt */
    char *http_listen;              /* daemon: "ADDRESS:PORT" serving /metrics, or NULL (off) */
    guint max_parallel_hosts;       /* libvirt: worker threads that call hosts (0: default) */
} VbConfig;

/* The libvirt driver calls hosts from a fixed pool of this many workers
 * (docs/config.md, docs/libvirt.md). */
#define VB_CONFIG_MAX_PARALLEL_HOSTS_DEFAULT 64
#define VB_CONFIG_MAX_PARALLEL_HOSTS_MAX 1024

VbConfig *vb_config_new_default(void);
void vb_config_free(VbConfig *config);
/* Destructors of a config's parts, for configs built by hand (tests): both
 * accept NULL; a pool's hosts go with its array's free function (the
 * loader's is vb_config_host_free). */
void vb_config_host_free(VbConfigHost *host);
void vb_config_pool_free(VbConfigPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbConfig, vb_config_free)
/* The largest config file read: 10,000 hosts take about 2 MiB. */
#define VB_CONFIG_MAX_BYTES (16 * 1024 * 1024)

/* Loads the main config (transfer full); mistakes (a file above
 * VB_CONFIG_MAX_BYTES included) give NULL and "file:line:column: what is
 * wrong" (VB_ERROR_INVALID_INPUT). Relative paths in it are taken relative
 * to the file's folder. */
VbConfig *vb_config_load_file(const char *path, GError **error);
/* Splits @text, "IPV4:PORT" or "[IPV6]:PORT" (an IP address, not a name; port
 * 0 to 65535, 0: any free one), into its address (transfer full, without
 * brackets) and port; each output may be NULL. FALSE (outputs untouched) when
 * @text is not of that form. */
gboolean vb_config_parse_listen(const char *text, char **ret_address, guint *ret_port);

G_END_DECLS
