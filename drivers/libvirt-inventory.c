/*
 * libvirt-inventory.c: the pool as real hosts describe it (the snapshot op).
 *
 * Each host is read in its own thread (node info, capabilities, storage,
 * every guest's state and disk sizes, and the capabilities and the XML of
 * each guest when the host does not keep them parsed: libvirt-defs.c) into a
 * plain VbLvHostInfo; the
 * inventory is then assembled in config order by one thread, so the model
 * never sees concurrency. A host that cannot be read is DOWN with its reason
 * and no guests. A guest seen on two hosts (a migration in flight, or a stale
 * definition left behind) is listed once, where it runs. A guest active
 * (running or paused) on two hosts at once, or in libvirt's failed post-copy
 * state (paused on both hosts, its memory split between them), is marked
 * on_two_hosts: the host it is listed on may be the wrong one, and the
 * planners leave it alone.
 */
#include "config.h"

#include <string.h>

#include "drivers/libvirt-priv.h"

#define VB_BYTES_PER_GIB (1024.0 * 1024.0 * 1024.0)

/* One guest as read from its host. */
typedef struct {
    VbLvDef *def;            /* its definition, kept or read now (own reference) */
    VbVmState state;
    gboolean postcopy_failed; /* libvirt says a post-copy migration of it failed */
    double *disk_gib;        /* per def->dom->disks entry */
} VbLvGuestInfo;

/* One host as read, before it goes into the inventory. */
typedef struct {
    char *reason;            /* NULL when the host was read */
    virNodeInfo node;
    VbLvHostCaps *hc;        /* capabilities, kept or read now (own reference) */
    double storage_total_gib, storage_free_gib;
    GPtrArray *guests;       /* owned VbLvGuestInfo * */
} VbLvHostInfo;

static void
vb_lv_guest_info_free(VbLvGuestInfo *guest)
{
    vb_lv_def_unref(guest->def);
    g_free(guest->disk_gib);
    g_free(guest);
}

static void
vb_lv_host_info_clear(VbLvHostInfo *info)
{
    g_free(info->reason);
    vb_lv_host_caps_unref(info->hc);
    if (info->guests)
        g_ptr_array_unref(info->guests);
}

static gboolean
vb_lv_pool_add(VbLvHost *host, virStoragePoolPtr pool, double *total, double *avail,
               GError **error)
{
    virStoragePoolInfo info;

    if (virStoragePoolGetInfo(pool, &info) < 0)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot read storage pool");
    *total += (double) info.capacity / VB_BYTES_PER_GIB;
    *avail += (double) info.available / VB_BYTES_PER_GIB;
    return TRUE;
}

gboolean
vb_lv_storage_get(VbLvHost *host, virConnectPtr conn, double *ret_total_gib,
                  double *ret_free_gib, GError **error)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, "default");
    virStoragePoolPtr *pools = NULL;
    double total = 0, avail = 0;
    gboolean ok = TRUE;
    int n;

    if (pool && virStoragePoolIsActive(pool) == 1) {
        if (!vb_lv_pool_add(host, pool, &total, &avail, error))
            return FALSE;
        *ret_total_gib = total;
        *ret_free_gib = avail;
        return TRUE;
    }
    virResetLastError();
    n = virConnectListAllStoragePools(conn, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
    if (n < 0)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot list storage pools");
    for (int i = 0; i < n; i++) {
        if (ok)
            ok = vb_lv_pool_add(host, pools[i], &total, &avail, error);
        virStoragePoolFree(pools[i]);
    }
    g_free(pools);
    if (!ok)
        return FALSE;
    *ret_total_gib = total;
    *ret_free_gib = avail;
    return TRUE;
}

gboolean
vb_lv_state_postcopy_failed(int state, int reason)
{
    return (state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_POSTCOPY_FAILED) ||
           (state == VIR_DOMAIN_RUNNING && reason == VIR_DOMAIN_RUNNING_POSTCOPY_FAILED);
}

static VbVmState
vb_lv_vm_state(int state)
{
    switch (state) {
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED:
        return VB_VM_STATE_PAUSED;
    case VIR_DOMAIN_SHUTOFF:
    case VIR_DOMAIN_CRASHED:
    case VIR_DOMAIN_NOSTATE:
        return VB_VM_STATE_SHUTOFF;
    default: /* running, blocked, shutting down: it still holds its resources */
        return VB_VM_STATE_RUNNING;
    }
}

/* The capacity in bytes libvirt's block statistics give for disk @target;
 * FALSE when they hold none. */
static gboolean
vb_lv_stats_capacity(const virDomainStatsRecord *record, const char *target, guint64 *ret)
{
    unsigned int count = 0;

    if (virTypedParamsGetUInt(record->params, record->nparams, "block.count", &count) <= 0)
        return FALSE;
    for (unsigned int i = 0; i < count; i++) {
        g_autofree char *name_key = g_strdup_printf("block.%u.name", i);
        g_autofree char *cap_key = g_strdup_printf("block.%u.capacity", i);
        const char *name = NULL;
        unsigned long long capacity = 0;

        if (virTypedParamsGetString(record->params, record->nparams, name_key, &name) > 0 &&
            g_strcmp0(name, target) == 0 &&
            virTypedParamsGetULLong(record->params, record->nparams, cap_key, &capacity) > 0) {
            *ret = capacity;
            return TRUE;
        }
    }
    *ret = 0; /* busy domain (NOWAIT): unknown this time */
    return TRUE;
}

/* Whether and how a host's read uses its kept definitions. */
typedef struct {
    gboolean keep;           /* definitions may be looked up and kept */
    guint64 gen;             /* the connection generation (vb_lv_defs_begin) */
    GHashTable *seen;        /* UUIDs listed by this read (owned keys), when keep */
} VbLvDefsUse;

/* The definition of @dom (transfer full): kept by the host, or its XML
 * fetched and parsed (and kept, when @use allows). NULL with @error when
 * the XML cannot be read (VB_ERROR_CONNECT) or parsed (VB_ERROR_INVALID_INPUT). */
static VbLvDef *
vb_lv_guest_def(VbLvHost *host, virDomainPtr dom, VbLvDefsUse *use, GError **error)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    g_autofree char *xml = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(VbLvDef) def = NULL;
    VbLvDomain *parsed;
    gboolean keep = use->keep && virDomainGetUUIDString(dom, uuid) == 0;
    guint64 epoch = 0;

    if (keep) {
        g_hash_table_add(use->seen, g_strdup(uuid));
        if ((def = vb_lv_defs_lookup(host->defs, uuid, &epoch)))
            return g_steal_pointer(&def);
    }
    xml = virDomainGetXMLDesc(dom, 0);
    if (!xml) {
        g_autofree char *what = g_strdup_printf("cannot read guest '%s'", virDomainGetName(dom));

        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, what), NULL;
    }
    parsed = vb_lv_domain_parse(xml, &local);
    if (!parsed) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: %s", host->name, local->message);
        return NULL;
    }
    def = vb_lv_def_new(parsed);
    if (keep)
        vb_lv_defs_keep(host->defs, uuid, def, use->gen, epoch);
    return g_steal_pointer(&def);
}

/* Reads one guest from its statistics record (transfer full), or NULL with
 * @error. Disk sizes come from the block statistics; only drivers without
 * them (test://) are asked disk by disk, since a per-disk query waits for a
 * migration in flight to let go of the guest (measured: 1 to 3 s). */
static VbLvGuestInfo *
vb_lv_guest_read(VbLvHost *host, const virDomainStatsRecord *record, VbLvDefsUse *use,
                 GError **error)
{
    VbLvDef *def = vb_lv_guest_def(host, record->dom, use, error);
    VbLvGuestInfo *guest;
    const VbLvDomain *dom;
    int state = VIR_DOMAIN_NOSTATE, reason = 0;

    if (!def)
        return NULL;
    guest = g_new0(VbLvGuestInfo, 1);
    guest->def = def;
    dom = def->dom;
    virTypedParamsGetInt(record->params, record->nparams, "state.state", &state);
    virTypedParamsGetInt(record->params, record->nparams, "state.reason", &reason);
    guest->state = vb_lv_vm_state(state);
    guest->postcopy_failed = vb_lv_state_postcopy_failed(state, reason);
    guest->disk_gib = g_new0(double, dom->disks->len + 1);
    for (guint i = 0; i < dom->disks->len; i++) {
        const VbLvDisk *disk = g_ptr_array_index(dom->disks, i);
        virDomainBlockInfo info;
        guint64 capacity = 0;

        if (vb_lv_stats_capacity(record, disk->target, &capacity))
            guest->disk_gib[i] = (double) capacity / VB_BYTES_PER_GIB;
        else if (virDomainGetBlockInfo(record->dom, disk->target, &info, 0) == 0)
            guest->disk_gib[i] = (double) info.capacity / VB_BYTES_PER_GIB;
        else
            g_debug("%s: %s: size of %s unknown: %s", host->name, dom->name, disk->target,
                    virGetLastErrorMessage());
        virResetLastError();
    }
    return guest;
}

/* One statistics call for every guest's state and disks; NOWAIT so that a
 * guest busy with a migration does not hold the whole snapshot. Definitions
 * come from the host's table where it holds them (libvirt-defs.c). */
static gboolean
vb_lv_guests_read(VbLvHost *host, virConnectPtr conn, VbLvHostInfo *info, VbLvDefsUse *use,
                  GError **error)
{
    virDomainStatsRecordPtr *records = NULL;
    int n;
    gboolean ok = TRUE;

    n = virConnectGetAllDomainStats(conn, VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_BLOCK,
                                    &records, VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
    if (n < 0)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot list guests");
    use->seen = use->keep ? g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) : NULL;
    info->guests = g_ptr_array_new_with_free_func((GDestroyNotify) vb_lv_guest_info_free);
    for (int i = 0; i < n; i++) {
        g_autoptr(GError) local = NULL;
        VbLvGuestInfo *guest = ok ? vb_lv_guest_read(host, records[i], use, &local) : NULL;

        /* A guest undefined between the listing and the read is simply gone;
         * one whose XML cannot be parsed is left out rather than guessed. */
        if (guest)
            g_ptr_array_add(info->guests, guest);
        else if (local && (local->code == VB_ERROR_INVALID_INPUT || virConnectIsAlive(conn) == 1))
            g_debug("%s", local->message);
        else if (local)
            ok = (g_propagate_error(error, g_steal_pointer(&local)), FALSE);
    }
    virDomainStatsRecordListFree(records);
    if (ok && use->seen)
        vb_lv_defs_retain(host->defs, use->seen); /* guests gone from the host */
    if (use->seen)
        g_hash_table_unref(use->seen);
    return ok;
}

/* Every feature of the host CPU (transfer full). Capabilities list only the
 * features beyond the named model, while a running guest's XML requires
 * features (x2apic, lahf_lm, ...) that are part of the host's model: so the
 * host CPU is expanded through libvirt's baseline call, hypervisor-aware
 * first, then the older host-only one. When neither works (test://), the
 * capabilities' own list is used. */
static char **
vb_lv_host_cpu_features(VbLvHost *host, virConnectPtr conn, const VbLvCaps *caps)
{
    const char *cpus[] = { caps->cpu_xml };
    unsigned int flags = VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES;
    g_autofree char *expanded = NULL;
    g_autoptr(GStrvBuilder) all = g_strv_builder_new();
    g_auto(GStrv) features = NULL;

    if (cpus[0]) {
        expanded = virConnectBaselineHypervisorCPU(conn, NULL, caps->arch, NULL,
                                                   caps->kvm ? "kvm" : "qemu", cpus, 1,
                                                   flags);
        if (!expanded)
            expanded = virConnectBaselineCPU(conn, cpus, 1, flags);
        if (!expanded)
            g_debug("%s: host CPU not expanded: %s", host->name, virGetLastErrorMessage());
        virResetLastError();
    }
    features = expanded ? vb_lv_cpu_features_parse(expanded, NULL) : NULL;
    g_strv_builder_addv(all, (const char **) caps->features);
    if (features)
        g_strv_builder_addv(all, (const char **) features);
    return g_strv_builder_end(all); /* duplicates are harmless: features are a set */
}

/* The host's capabilities, expanded CPU and hypervisor (transfer full):
 * kept for the connection (vb_lv_defs_caps_get) or read now, and then kept
 * when @use allows. NULL with @error when they cannot be read or parsed. */
static VbLvHostCaps *
vb_lv_host_caps_read(VbLvHost *host, virConnectPtr conn, const VbLvDefsUse *use,
                     GError **error)
{
    g_autofree char *xml = NULL;
    g_autoptr(GError) local = NULL;
    VbLvHostCaps *hc = use->keep ? vb_lv_defs_caps_get(host->defs) : NULL;
    VbLvCaps *caps;
    const char *type;
    char *hypervisor;

    if (hc)
        return hc;
    xml = virConnectGetCapabilities(conn);
    if (!xml)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot read capabilities"), NULL;
    caps = vb_lv_caps_parse(xml, &local);
    if (!caps) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: %s", host->name, local->message);
        return NULL;
    }
    type = virConnectGetType(conn);
    hypervisor = caps->kvm ? g_strdup("kvm") : g_ascii_strdown(type ? type : "qemu", -1);
    hc = vb_lv_host_caps_new(caps, hypervisor, vb_lv_host_cpu_features(host, conn, caps));
    if (use->keep)
        vb_lv_defs_caps_keep(host->defs, hc, use->gen);
    return hc;
}

static gboolean
vb_lv_host_read(VbLvHost *host, virConnectPtr conn, VbLvHostInfo *info, GError **error)
{
    VbLvDefsUse use = { 0 };

    if (virNodeGetInfo(conn, &info->node) < 0)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot read node info");
    use.keep = vb_lv_defs_begin(host, conn, &use.gen);
    info->hc = vb_lv_host_caps_read(host, conn, &use, error);
    return info->hc &&
           vb_lv_storage_get(host, conn, &info->storage_total_gib, &info->storage_free_gib, error) &&
           vb_lv_guests_read(host, conn, info, &use, error);
}

static void
vb_lv_host_info_free(VbLvHostInfo *info)
{
    vb_lv_host_info_clear(info);
    g_free(info);
}

/* One host read, in a call with a deadline (transfer full VbLvHostInfo). A
 * host that fails midway is marked down, unless what failed is its own
 * output (unparsable XML): the connection is fine then. */
static gpointer
vb_lv_snapshot_call(VbLvHost *host, virConnectPtr conn, gpointer arg, GError **error)
{
    VbLvHostInfo *info = g_new0(VbLvHostInfo, 1);

    if (vb_lv_host_read(host, conn, info, error))
        return info;
    if ((*error)->code != VB_ERROR_INVALID_INPUT)
        vb_lv_host_mark_down(host, (*error)->message);
    vb_lv_host_info_free(info);
    return NULL;
}

/* -------------------------------------------------------------- assembly */

static void
vb_lv_vm_fill(VbInventory *inv, VbLvHost *host, VbVm *vm, const VbLvGuestInfo *guest)
{
    const VbLvDomain *def = guest->def->dom;

    vm->state = guest->state;
    vm->vcpus = def->vcpus;
    vm->memory_mib = def->memory_mib;
    for (guint i = 0; def->cpu_features[i]; i++)
        vb_vm_add_feature(inv, vm, def->cpu_features[i]);
    for (guint i = 0; i < def->disks->len; i++) {
        const VbLvDisk *disk = g_ptr_array_index(def->disks, i);

        vb_vm_add_disk(vm, disk->target, guest->disk_gib[i], host->shared_storage || disk->network);
    }
    vm->devices = g_strdupv(def->devices);
    vm->tags = g_strdupv(def->tags);
    for (guint i = 0; def->labels[i]; i++)
        vb_vm_add_label(inv, vm, def->labels[i]);
}

static void
vb_lv_host_fill(VbInventory *inv, VbLvHost *host, VbHost *vbhost, const VbLvHostInfo *info)
{
    vbhost->uri = g_strdup(host->uri);
    for (guint i = 0; host->labels && host->labels[i]; i++)
        vb_host_add_label(inv, vbhost, host->labels[i]);
    if (info->reason) {
        vbhost->state = VB_HOST_STATE_DOWN;
        vbhost->state_reason = g_strdup(info->reason);
        vbhost->cpu_vendor = g_strdup(host->cpu_vendor);
        return;
    }
    vbhost->state = VB_HOST_STATE_UP;
    vbhost->hypervisor = g_strdup(info->hc->hypervisor);
    vbhost->cpu_vendor = g_strdup(host->cpu_vendor ? host->cpu_vendor : info->hc->caps->vendor);
    vbhost->cpu_model = g_strdup(info->hc->caps->model);
    for (guint i = 0; info->hc->cpu_features[i]; i++)
        vb_host_add_feature(inv, vbhost, info->hc->cpu_features[i]);
    vbhost->cpu_cores = info->node.cpus;
    vbhost->memory_mib = info->node.memory / 1024;
    vbhost->storage_total_gib = info->storage_total_gib;
    vbhost->storage_free_gib = info->storage_free_gib;
}

/* Adds the guests of every host; running and paused ones first, so that a
 * guest both running somewhere and defined elsewhere is listed where it runs. */
static void
vb_lv_add_guests(VbInventory *inv, VbConn *conn, VbLvHostInfo *infos, gboolean active)
{
    for (guint h = 0; h < conn->hosts->len; h++) {
        VbLvHost *host = g_ptr_array_index(conn->hosts, h);
        VbHost *vbhost = vb_inventory_get_host(inv, host->name);

        for (guint g = 0; infos[h].guests && g < infos[h].guests->len; g++) {
            const VbLvGuestInfo *guest = g_ptr_array_index(infos[h].guests, g);
            g_autoptr(GError) error = NULL;
            VbVm *vm;

            if ((guest->state != VB_VM_STATE_SHUTOFF) != active)
                continue;
            vm = vb_inventory_get_vm(inv, guest->def->dom->name);
            if (vm) {
                g_debug("%s: guest '%s' is also on another host; listed once", host->name,
                        guest->def->dom->name);
                /* Active twice: the planners must not pick a side. */
                vm->on_two_hosts |= active || guest->postcopy_failed;
                continue;
            }
            vm = vb_inventory_add_vm(inv, vbhost, guest->def->dom->name, &error);
            if (vm) {
                vb_lv_vm_fill(inv, host, vm, guest);
                vm->on_two_hosts = guest->postcopy_failed;
            }
        }
    }
}

VbInventory *
vb_lv_snapshot(VbConn *conn, GError **error)
{
    g_autoptr(VbInventory) inv = vb_inventory_new();
    guint n = conn->hosts->len;
    g_autofree VbLvHostInfo *infos = g_new0(VbLvHostInfo, n + 1);
    g_autofree gpointer *results = g_new0(gpointer, n + 1);
    g_autofree GError **errors = g_new0(GError *, n + 1);
    gboolean ok = TRUE;

    vb_lv_hosts_call(conn, vb_lv_snapshot_call, NULL, (GDestroyNotify) vb_lv_host_info_free,
                     results, errors);
    for (guint h = 0; h < n; h++) {
        if (results[h]) {
            infos[h] = *(VbLvHostInfo *) results[h];
            g_free(results[h]);
        } else {
            infos[h].reason = g_strdup(errors[h]->message);
            g_clear_error(&errors[h]);
        }
    }
    for (guint h = 0; ok && h < conn->hosts->len; h++) {
        VbLvHost *host = g_ptr_array_index(conn->hosts, h);
        VbPool *pool = vb_inventory_get_pool(inv, host->pool);
        VbHost *vbhost;

        if (!pool)
            pool = vb_inventory_add_pool(inv, host->pool, error);
        if (pool)
            pool->shared_storage = host->shared_storage;
        vbhost = pool ? vb_inventory_add_host(inv, pool, host->name, error) : NULL;
        ok = vbhost != NULL;
        if (ok)
            vb_lv_host_fill(inv, host, vbhost, &infos[h]);
    }
    if (ok) {
        vb_lv_add_guests(inv, conn, infos, TRUE);
        vb_lv_add_guests(inv, conn, infos, FALSE);
        for (guint h = 0; h < conn->hosts->len; h++) {
            VbLvHost *host = g_ptr_array_index(conn->hosts, h);

            if (!infos[h].reason)
                vb_lv_host_apply_load(host, inv, vb_inventory_get_host(inv, host->name));
        }
    }
    for (guint h = 0; h < conn->hosts->len; h++)
        vb_lv_host_info_clear(&infos[h]);
    return ok ? g_steal_pointer(&inv) : NULL;
}

/* ------------------------------------------------------------ load figures */

static const VbVmSample *
vb_lv_sample_vm(const VbHostSample *sample, const char *name)
{
    for (guint i = 0; sample && i < sample->vms->len; i++) {
        const VbVmSample *vm = &g_array_index(sample->vms, VbVmSample, i);

        if (g_strcmp0(vm->name, name) == 0)
            return vm;
    }
    return NULL;
}

void
vb_lv_host_apply_load(VbLvHost *host, VbInventory *inv, VbHost *vbhost)
{
    const VbHostSample *a, *b;
    double seconds;

    g_mutex_lock(&host->lock);
    a = host->prev;
    b = host->last;
    if (b)
        vbhost->memory_used_mib = b->memory_total_mib - b->memory_free_mib;
    if (a && b && b->cpu_total_ns > a->cpu_total_ns && b->monotonic_us > a->monotonic_us) {
        vbhost->cpu_usage = (double) (b->cpu_busy_ns - MIN(a->cpu_busy_ns, b->cpu_busy_ns)) /
                            (double) (b->cpu_total_ns - a->cpu_total_ns);
        seconds = (double) (b->monotonic_us - a->monotonic_us) / G_USEC_PER_SEC;
        for (guint i = 0; i < vbhost->vms->len; i++) {
            VbVm *vm = vb_inventory_vm(inv, g_array_index(vbhost->vms, guint, i));
            const VbVmSample *va = vb_lv_sample_vm(a, vm->name), *vbs = vb_lv_sample_vm(b, vm->name);

            if (va && vbs && vbs->cpu_time_ns >= va->cpu_time_ns && vm->vcpus > 0)
                vm->cpu_usage = CLAMP((double) (vbs->cpu_time_ns - va->cpu_time_ns) /
                                      (seconds * 1e9 * vm->vcpus), 0.0, 1.0);
        }
    }
    g_mutex_unlock(&host->lock);
}
