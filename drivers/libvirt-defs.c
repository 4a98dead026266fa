/*
 * libvirt-defs.c: guest definitions kept between snapshots.
 *
 * A snapshot reads every guest of every host. Its state, the host it is on
 * and its disk sizes come from one statistics call per host and change all
 * the time; its definition (vCPUs, memory, CPU features, disks, devices,
 * metadata tags and labels: VbLvDomain) is one XML description per guest,
 * fetched and parsed, and rarely changes. So each host keeps the parsed
 * definitions of its guests by UUID (VbLvDefs), for the connection it was
 * read on, and a snapshot fetches the XML again only for a guest it does not
 * hold: a new one, or one a libvirt domain event said may have changed.
 *
 * The host's capabilities (parsed, CPU expanded: VbLvHostCaps) are kept the
 * same way, per connection, and emptied with the definitions; no event
 * concerns them.
 *
 * Invariants:
 *  - definitions are kept only while domain events are registered on the
 *    host's current connection (`gen` is that connection's generation, see
 *    VbLvHost.conn_gen); a new connection (reconnect, keepalive loss) empties
 *    the table before anything is read on it, and when the events cannot be
 *    registered nothing is kept: every guest is read in full;
 *  - every event drops the guest it names and bumps `epoch`; a definition
 *    read while the epoch moved is used once and not kept, so a change whose
 *    event arrives during the read is never hidden;
 *  - every `every` snapshots of a host (VB_LV_DEFS_REFRESH_SNAPSHOTS unless
 *    VIRT_BALANCER_DEFS_REFRESH says otherwise) its table is emptied (the
 *    hosts take turns: `phase`), a bound on any change no event reports;
 *  - kept definitions are immutable and shared by reference (VbLvDef).
 *
 * Workload: written by the host's snapshot worker (one at a time per host in
 * practice), emptied entry by entry by libvirt's event loop thread; both
 * under `lock`. Registration (RPCs) is under `reg_lock` only, so the event
 * loop never waits for the network.
 */
#include "config.h"

#include "drivers/libvirt-priv.h"

struct _VbLvDefs {
    gatomicrefcount refs;    /* the host's, and one per registered callback */
    GMutex lock;             /* guards the fields down to `stats` */
    GHashTable *table;       /* UUID string -> VbLvDef * (own reference) */
    VbLvHostCaps *caps;      /* the host's capabilities, or NULL (own reference) */
    guint64 gen;             /* the connection generation `table` belongs to; 0: none */
    guint64 epoch;           /* bumped by every event */
    guint every;             /* snapshots between safety refreshes */
    guint phase;             /* this host's turn for the safety refresh, below `every` */
    guint snapshots;         /* snapshots begun, for the safety refresh */
    VbLvDefsStats stats;
    GMutex reg_lock;         /* guards the fields below (registration, RPCs) */
    virConnectPtr events_conn; /* the connection the callbacks are on (own ref), or NULL */
    GArray *callback_ids;    /* int: the callbacks registered on events_conn */
};

/* ------------------------------------------------------------ VbLvDef */

VbLvDef *
vb_lv_def_new(VbLvDomain *dom)
{
    VbLvDef *def = g_new0(VbLvDef, 1);

    g_atomic_ref_count_init(&def->refs);
    def->dom = dom;
    return def;
}

VbLvDef *
vb_lv_def_ref(VbLvDef *def)
{
    g_atomic_ref_count_inc(&def->refs);
    return def;
}

void
vb_lv_def_unref(VbLvDef *def)
{
    if (!def || !g_atomic_ref_count_dec(&def->refs))
        return;
    vb_lv_domain_free(def->dom);
    g_free(def);
}

VbLvHostCaps *
vb_lv_host_caps_new(VbLvCaps *caps, char *hypervisor, char **cpu_features)
{
    VbLvHostCaps *hc = g_new0(VbLvHostCaps, 1);

    g_atomic_ref_count_init(&hc->refs);
    hc->caps = caps;
    hc->hypervisor = hypervisor;
    hc->cpu_features = cpu_features;
    return hc;
}

VbLvHostCaps *
vb_lv_host_caps_ref(VbLvHostCaps *hc)
{
    g_atomic_ref_count_inc(&hc->refs);
    return hc;
}

void
vb_lv_host_caps_unref(VbLvHostCaps *hc)
{
    if (!hc || !g_atomic_ref_count_dec(&hc->refs))
        return;
    vb_lv_caps_free(hc->caps);
    g_free(hc->hypervisor);
    g_strfreev(hc->cpu_features);
    g_free(hc);
}

/* ------------------------------------------------------------ the table */

/* Forgets everything kept (lock held). */
static void
vb_lv_defs_empty(VbLvDefs *defs)
{
    g_hash_table_remove_all(defs->table);
    g_clear_pointer(&defs->caps, vb_lv_host_caps_unref);
}

guint
vb_lv_defs_refresh_every(void)
{
    const char *text = g_getenv(VB_LV_DEFS_REFRESH_ENV);
    guint64 n = 0;

    /* A malformed value is ignored: the default is always safe. */
    if (text && g_ascii_string_to_unsigned(text, 10, 1, 1000000, &n, NULL))
        return (guint) n;
    return VB_LV_DEFS_REFRESH_SNAPSHOTS;
}

VbLvDefs *
vb_lv_defs_new(guint phase, guint every)
{
    VbLvDefs *defs = g_new0(VbLvDefs, 1);

    g_atomic_ref_count_init(&defs->refs);
    g_mutex_init(&defs->lock);
    g_mutex_init(&defs->reg_lock);
    defs->table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) vb_lv_def_unref);
    defs->every = MAX(every, 1u);
    defs->phase = phase % defs->every;
    defs->callback_ids = g_array_new(FALSE, FALSE, sizeof(int));
    return defs;
}

static VbLvDefs *
vb_lv_defs_ref(VbLvDefs *defs)
{
    g_atomic_ref_count_inc(&defs->refs);
    return defs;
}

static void
vb_lv_defs_unref(VbLvDefs *defs)
{
    if (!defs || !g_atomic_ref_count_dec(&defs->refs))
        return;
    g_assert(defs->events_conn == NULL); /* a callback would still hold a reference */
    g_hash_table_unref(defs->table);
    vb_lv_host_caps_unref(defs->caps);
    g_array_unref(defs->callback_ids);
    g_mutex_clear(&defs->lock);
    g_mutex_clear(&defs->reg_lock);
    g_free(defs);
}

/* libvirt's free callback of a registration. */
static void
vb_lv_defs_release(void *opaque)
{
    vb_lv_defs_unref(opaque);
}

/* An event said @dom may have changed: forget it (all, when it has no UUID). */
static void
vb_lv_defs_changed(VbLvDefs *defs, virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    gboolean named = dom && virDomainGetUUIDString(dom, uuid) == 0;

    g_mutex_lock(&defs->lock);
    if (named)
        g_hash_table_remove(defs->table, uuid);
    else
        g_hash_table_remove_all(defs->table);
    defs->epoch++;
    defs->stats.events++;
    g_mutex_unlock(&defs->lock);
}

/* ------------------------------------------------------------ events */

/* One callback per signature; each only forgets the guest it is about. */
static void
vb_lv_on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    vb_lv_defs_changed(opaque, dom);
}

static void
vb_lv_on_device(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
    vb_lv_defs_changed(opaque, dom);
}

static void
vb_lv_on_metadata(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri,
                  void *opaque)
{
    vb_lv_defs_changed(opaque, dom);
}

static void
vb_lv_on_balloon(virConnectPtr conn, virDomainPtr dom, unsigned long long actual, void *opaque)
{
    vb_lv_defs_changed(opaque, dom);
}

static void
vb_lv_on_tunable(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params, int n,
                 void *opaque)
{
    vb_lv_defs_changed(opaque, dom);
}

static void
vb_lv_on_block_job(virConnectPtr conn, virDomainPtr dom, const char *disk, int type, int status,
                   void *opaque)
{
    vb_lv_defs_changed(opaque, dom);
}

static void
vb_lv_on_disk_change(virConnectPtr conn, virDomainPtr dom, const char *old_src,
                     const char *new_src, const char *alias, int reason, void *opaque)
{
    vb_lv_defs_changed(opaque, dom);
}

#if LIBVIR_CHECK_VERSION(7, 9, 0)
static void
vb_lv_on_memory_size(virConnectPtr conn, virDomainPtr dom, const char *alias,
                     unsigned long long size, void *opaque)
{
    vb_lv_defs_changed(opaque, dom);
}
#endif

/* Every event after which what vb_lv_domain_parse reads may differ:
 * lifecycle (define, undefine, start, stop, migrations, renames), live
 * device plugs and unplugs, metadata (tags, labels), the balloon (current
 * memory), tunables (vCPUs), block jobs that pivot a disk to a new source,
 * media changes, and virtio-mem size changes where libvirt has them. */
static const struct {
    int id;
    virConnectDomainEventGenericCallback cb;
} vb_lv_def_events[] = {
    { VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(vb_lv_on_lifecycle) },
    { VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(vb_lv_on_device) },
    { VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(vb_lv_on_device) },
    { VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(vb_lv_on_metadata) },
    { VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(vb_lv_on_balloon) },
    { VIR_DOMAIN_EVENT_ID_TUNABLE, VIR_DOMAIN_EVENT_CALLBACK(vb_lv_on_tunable) },
    { VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, VIR_DOMAIN_EVENT_CALLBACK(vb_lv_on_block_job) },
    { VIR_DOMAIN_EVENT_ID_DISK_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(vb_lv_on_disk_change) },
#if LIBVIR_CHECK_VERSION(7, 9, 0)
    { VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE,
      VIR_DOMAIN_EVENT_CALLBACK(vb_lv_on_memory_size) },
#endif
};

/* Deregisters every callback from the connection they are on (reg_lock
 * held). On a connection already closed by libvirt (keepalive) this is
 * local and fails at once; the callbacks are gone either way. */
static void
vb_lv_defs_deregister(VbLvDefs *defs)
{
    for (guint i = 0; i < defs->callback_ids->len; i++) {
        if (virConnectDomainEventDeregisterAny(defs->events_conn,
                                               g_array_index(defs->callback_ids, int, i)) < 0)
            g_debug("libvirt: event callback not deregistered: %s", virGetLastErrorMessage());
        virResetLastError();
    }
    g_array_set_size(defs->callback_ids, 0);
    g_clear_pointer(&defs->events_conn, virConnectClose);
}

/* Registers every event of vb_lv_def_events on @conn (reg_lock held);
 * FALSE, with none left registered, when one is refused. */
static gboolean
vb_lv_defs_register(VbLvDefs *defs, const char *host, virConnectPtr conn)
{
    defs->events_conn = virConnectRef(conn) == 0 ? conn : NULL;
    for (guint i = 0; defs->events_conn && i < G_N_ELEMENTS(vb_lv_def_events); i++) {
        int id = virConnectDomainEventRegisterAny(conn, NULL, vb_lv_def_events[i].id,
                                                  vb_lv_def_events[i].cb, vb_lv_defs_ref(defs),
                                                  vb_lv_defs_release);

        if (id < 0) {
            g_debug("%s: domain event %d not registered, definitions read every time: %s", host,
                    vb_lv_def_events[i].id, virGetLastErrorMessage());
            virResetLastError();
            vb_lv_defs_unref(defs); /* libvirt does not call freecb on failure */
            vb_lv_defs_deregister(defs);
            return FALSE;
        }
        g_array_append_val(defs->callback_ids, id);
    }
    return defs->events_conn != NULL;
}

/* ------------------------------------------------------------ snapshots */

gboolean
vb_lv_defs_begin(VbLvHost *host, virConnectPtr conn, guint64 *ret_gen)
{
    VbLvDefs *defs = host->defs;
    guint64 gen = 0;
    gboolean ready;

    g_mutex_lock(&host->lock);
    if (host->conn == conn) /* not a connection the host already replaced */
        gen = host->conn_gen;
    g_mutex_unlock(&host->lock);
    if (gen == 0)
        return FALSE;
    g_mutex_lock(&defs->reg_lock);
    g_mutex_lock(&defs->lock);
    ready = defs->gen == gen;
    if (!ready) {
        /* A new connection: what was kept, and events, belong to the old one. */
        vb_lv_defs_empty(defs);
        defs->gen = 0;
    }
    g_mutex_unlock(&defs->lock);
    if (!ready) {
        if (defs->events_conn)
            vb_lv_defs_deregister(defs);
        ready = vb_lv_defs_register(defs, host->name, conn);
        g_mutex_lock(&defs->lock);
        defs->gen = ready ? gen : 0;
        defs->stats.listening = ready;
        defs->stats.refreshes++;
        g_mutex_unlock(&defs->lock);
    }
    g_mutex_unlock(&defs->reg_lock);
    if (!ready)
        return FALSE;
    g_mutex_lock(&defs->lock);
    if (defs->snapshots++ % defs->every == defs->phase &&
        (g_hash_table_size(defs->table) > 0 || defs->caps)) {
        vb_lv_defs_empty(defs);
        defs->stats.refreshes++;
    }
    g_mutex_unlock(&defs->lock);
    *ret_gen = gen;
    return TRUE;
}

VbLvDef *
vb_lv_defs_lookup(VbLvDefs *defs, const char *uuid, guint64 *ret_epoch)
{
    VbLvDef *def;

    g_mutex_lock(&defs->lock);
    def = g_hash_table_lookup(defs->table, uuid);
    if (def) {
        vb_lv_def_ref(def);
        defs->stats.kept_reads++;
    } else {
        defs->stats.fetches++;
    }
    *ret_epoch = defs->epoch;
    g_mutex_unlock(&defs->lock);
    return def;
}

void
vb_lv_defs_keep(VbLvDefs *defs, const char *uuid, VbLvDef *def, guint64 gen, guint64 epoch)
{
    g_mutex_lock(&defs->lock);
    if (defs->gen == gen && defs->epoch == epoch)
        g_hash_table_replace(defs->table, g_strdup(uuid), vb_lv_def_ref(def));
    g_mutex_unlock(&defs->lock);
}

VbLvHostCaps *
vb_lv_defs_caps_get(VbLvDefs *defs)
{
    VbLvHostCaps *hc;

    g_mutex_lock(&defs->lock);
    hc = defs->caps ? vb_lv_host_caps_ref(defs->caps) : NULL;
    if (!hc)
        defs->stats.caps_fetches++;
    g_mutex_unlock(&defs->lock);
    return hc;
}

void
vb_lv_defs_caps_keep(VbLvDefs *defs, VbLvHostCaps *hc, guint64 gen)
{
    g_mutex_lock(&defs->lock);
    if (defs->gen == gen) {
        g_clear_pointer(&defs->caps, vb_lv_host_caps_unref);
        defs->caps = vb_lv_host_caps_ref(hc);
    }
    g_mutex_unlock(&defs->lock);
}

static gboolean
vb_lv_defs_unseen(gpointer key, gpointer value, gpointer seen)
{
    return !g_hash_table_contains(seen, key);
}

void
vb_lv_defs_retain(VbLvDefs *defs, GHashTable *seen)
{
    g_mutex_lock(&defs->lock);
    g_hash_table_foreach_remove(defs->table, vb_lv_defs_unseen, seen);
    g_mutex_unlock(&defs->lock);
}

void
vb_lv_defs_stats(VbLvDefs *defs, VbLvDefsStats *ret_stats)
{
    g_mutex_lock(&defs->lock);
    *ret_stats = defs->stats;
    ret_stats->kept = g_hash_table_size(defs->table);
    g_mutex_unlock(&defs->lock);
}

void
vb_lv_defs_close(VbLvDefs *defs)
{
    if (!defs)
        return;
    g_mutex_lock(&defs->reg_lock);
    if (defs->events_conn)
        vb_lv_defs_deregister(defs);
    g_mutex_unlock(&defs->reg_lock);
    vb_lv_defs_unref(defs);
}
