/*
 * libvirt-cold.c: moving a shut-off guest between hosts: its local disks,
 * then its definition.
 *
 * Order, so that a failure at any step leaves the guest whole and defined
 * exactly once: (1) create each local disk's volume on the destination, in
 * the storage pool of the same name, and copy its bytes through libvirt
 * streams; (2) define the guest on the destination; (3) undefine it on the
 * source; (4) only then delete the source volumes. A failure in (1)-(3)
 * deletes what was created on the destination and leaves the source as it
 * was. Disks on shared storage (the pool says shared_storage, or a network
 * disk) are not copied.
 *
 * A process killed while copying deletes nothing: each copy therefore carries
 * a marker volume from its creation until (2), the proof that it is a partial
 * copy of this program's, and step (1) first sweeps such leftovers of the
 * same guest from the destination (libvirt-partial.c), so a retry succeeds.
 *
 * A UEFI guest's NVRAM (os/nvram: its boot entries and Secure Boot keys) is a
 * file on the source host, not a disk: without it the destination would
 * start the guest from the firmware's blank template. It is copied in step
 * (1) like a local disk (so it must be a volume of a storage pool, e.g. a dir
 * pool over /var/lib/libvirt/qemu/nvram, on both hosts), and the source's is
 * deleted in (4). With shared storage it is copied only when the destination
 * does not see the same path (the NVRAM folder is usually local even when
 * disks are shared), and a NVRAM in no storage pool is taken to be shared.
 * Without shared storage a NVRAM in no pool refuses the move, naming the fix.
 *
 * Limits: a local disk must be a volume of a storage pool that exists under
 * the same name on the destination, at the same path (the definition is not
 * rewritten); an existing volume of that name on the destination is never
 * overwritten (nor deleted, unless marked as this program's partial copy).
 * Both connections are the worker's own, so a long copy never blocks the
 * hosts' shared connections.
 */
#include "config.h"

#include <string.h>

#include "drivers/libvirt-priv.h"

#define VB_LV_COPY_CHUNK (1024 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStream, virStreamFree)

/* One local disk being copied. */
typedef struct {
    virStorageVolPtr src;    /* on the source */
    virStorageVolPtr dst;    /* created on the destination, or NULL */
    gboolean marked;         /* dst carries its partial-copy marker */
} VbLvVolCopy;

static void
vb_lv_vol_copy_free(VbLvVolCopy *copy)
{
    if (copy->src)
        virStorageVolFree(copy->src);
    if (copy->dst)
        virStorageVolFree(copy->dst);
    g_free(copy);
}

/* Sets @ret_message to "what: libvirt's message" (transfer full). */
static gboolean
vb_lv_cold_fail(char **ret_message, const char *what)
{
    const char *message = virGetLastErrorMessage();

    g_free(*ret_message);
    *ret_message = g_strdup_printf("%s: %s", what, message && *message ? message : "failed");
    virResetLastError();
    return FALSE;
}

virStorageVolPtr
vb_lv_disk_volume(virConnectPtr sconn, const VbLvDisk *disk, char **ret_message)
{
    g_autofree char *what = g_strdup_printf("disk %s (%s) is in no storage pool, cannot copy it",
                                            disk->target, disk->source ? disk->source : "no source");
    const char *slash = disk->source ? strchr(disk->source, '/') : NULL;
    virStorageVolPtr vol = NULL;

    if (disk->source && disk->source[0] == '/')
        vol = virStorageVolLookupByPath(sconn, disk->source);
    else if (slash) { /* "pool/volume" */
        g_autofree char *pool_name = g_strndup(disk->source, slash - disk->source);
        g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(sconn, pool_name);

        vol = pool ? virStorageVolLookupByName(pool, slash + 1) : NULL;
    }
    if (!vol)
        vb_lv_cold_fail(ret_message, what);
    return vol;
}

/* Creates @copy->dst on @dconn like @copy->src: same pool name, volume name,
 * capacity and format, at the same path. */
static gboolean
vb_lv_vol_create(virConnectPtr dconn, VbLvVolCopy *copy, char **ret_message)
{
    g_autoptr(virStoragePool) spool = virStoragePoolLookupByVolume(copy->src);
    g_autoptr(virStoragePool) dpool = NULL;
    g_autofree char *xml = NULL, *spath = NULL, *dpath = NULL, *format = NULL;
    const char *name = virStorageVolGetName(copy->src);
    virStorageVolInfo info;

    if (!spool || virStorageVolGetInfo(copy->src, &info) < 0)
        return vb_lv_cold_fail(ret_message, "cannot read the source volume");
    dpool = virStoragePoolLookupByName(dconn, virStoragePoolGetName(spool));
    if (!dpool)
        return vb_lv_cold_fail(ret_message, "no storage pool of the same name on the destination");
    xml = virStorageVolGetXMLDesc(copy->src, 0);
    format = xml ? vb_lv_volume_format(xml) : NULL;
    g_free(xml);
    xml = g_markup_printf_escaped("<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
                                  "<allocation>0</allocation><target><format type='%s'/></target>"
                                  "</volume>",
                                  name, info.capacity, format ? format : "raw");
    copy->dst = virStorageVolCreateXML(dpool, xml, 0);
    if (!copy->dst)
        return vb_lv_cold_fail(ret_message, "cannot create the volume on the destination");
    /* Created just now (libvirt never overwrites): ours, so marked as a
     * partial copy until the guest is defined on it (libvirt-partial.c). */
    copy->marked = vb_lv_partial_mark(dpool, copy->dst, ret_message);
    if (!copy->marked)
        return FALSE;
    spath = virStorageVolGetPath(copy->src);
    dpath = virStorageVolGetPath(copy->dst);
    if (g_strcmp0(spath, dpath) != 0) {
        g_free(*ret_message);
        *ret_message = g_strdup_printf("volume %s would be at %s on the destination, not %s: "
                                       "the pools differ", name, dpath, spath);
        return FALSE;
    }
    return TRUE;
}

/* Copies the bytes of @copy->src into @copy->dst through two streams. */
static gboolean
vb_lv_vol_transfer(virConnectPtr sconn, virConnectPtr dconn, VbLvVolCopy *copy,
                   char **ret_message)
{
    g_autoptr(virStream) in = virStreamNew(sconn, 0);
    g_autoptr(virStream) out = virStreamNew(dconn, 0);
    g_autofree char *buf = g_malloc(VB_LV_COPY_CHUNK);
    int n;

    if (!in || !out || virStorageVolDownload(copy->src, in, 0, 0, 0) < 0 ||
        virStorageVolUpload(copy->dst, out, 0, 0, 0) < 0)
        return vb_lv_cold_fail(ret_message, "cannot open the volume streams");
    while ((n = virStreamRecv(in, buf, VB_LV_COPY_CHUNK)) > 0) {
        for (int off = 0; off < n;) {
            int sent = virStreamSend(out, buf + off, (size_t) (n - off));

            if (sent < 0) {
                virStreamAbort(in);
                return vb_lv_cold_fail(ret_message, "cannot write the volume");
            }
            off += sent;
        }
    }
    if (n < 0) {
        virStreamAbort(out);
        return vb_lv_cold_fail(ret_message, "cannot read the volume");
    }
    if (virStreamFinish(in) < 0 || virStreamFinish(out) < 0)
        return vb_lv_cold_fail(ret_message, "cannot finish the volume copy");
    return TRUE;
}

/* Copies every local disk of @def; fills @copies (VbLvVolCopy *). */
static gboolean
vb_lv_copy_disks(virConnectPtr sconn, virConnectPtr dconn, const VbLvDomain *def,
                 gboolean shared_storage, GPtrArray *copies, char **ret_message)
{
    for (guint i = 0; !shared_storage && i < def->disks->len; i++) {
        const VbLvDisk *disk = g_ptr_array_index(def->disks, i);
        VbLvVolCopy *copy;

        if (disk->network)
            continue;
        copy = g_new0(VbLvVolCopy, 1);
        g_ptr_array_add(copies, copy);
        copy->src = vb_lv_disk_volume(sconn, disk, ret_message);
        if (!copy->src || !vb_lv_vol_create(dconn, copy, ret_message) ||
            !vb_lv_vol_transfer(sconn, dconn, copy, ret_message))
            return FALSE;
    }
    return TRUE;
}

/* Copies the UEFI NVRAM of @def (see the top of the file); appends it to
 * @copies when copied. */
static gboolean
vb_lv_copy_nvram(virConnectPtr sconn, virConnectPtr dconn, const VbLvDomain *def,
                 gboolean shared_storage, GPtrArray *copies, char **ret_message)
{
    g_autoptr(virStorageVol) src = NULL;
    VbLvVolCopy *copy;

    if (!def->nvram)
        return TRUE;
    src = virStorageVolLookupByPath(sconn, def->nvram);
    virResetLastError();
    if (!src && shared_storage)
        return TRUE;
    if (!src) {
        g_autofree char *folder = g_path_get_dirname(def->nvram);

        g_free(*ret_message);
        *ret_message = g_strdup_printf("its UEFI NVRAM %s is in no storage pool, so it cannot "
                                       "be copied: define a dir pool over %s on every host "
                                       "(virsh pool-define-as nvram dir --target %s; virsh "
                                       "pool-start nvram)",
                                       def->nvram, folder, folder);
        return FALSE;
    }
    if (shared_storage) {
        g_autoptr(virStorageVol) there = virStorageVolLookupByPath(dconn, def->nvram);

        virResetLastError();
        if (there && vb_lv_partial_is_marked(there)) {
            g_free(*ret_message);
            *ret_message = g_strdup_printf("UEFI NVRAM %s: the destination holds a partial copy "
                                           "of it, left by an interrupted move and still in use "
                                           "or not checked (marker %s" VB_LV_PARTIAL_SUFFIX ")",
                                           def->nvram, def->nvram);
            return FALSE;
        }
        if (there)
            return TRUE; /* the same file, on the shared storage */
    }
    copy = g_new0(VbLvVolCopy, 1);
    copy->src = g_steal_pointer(&src);
    g_ptr_array_add(copies, copy);
    if (!vb_lv_vol_create(dconn, copy, ret_message) ||
        !vb_lv_vol_transfer(sconn, dconn, copy, ret_message)) {
        g_autofree char *why = *ret_message;

        *ret_message = g_strdup_printf("UEFI NVRAM %s: %s", def->nvram, why ? why : "failed");
        return FALSE;
    }
    return TRUE;
}

/* Deletes the source volumes (@source TRUE) or the destination copies (each
 * before its marker: one that cannot be deleted stays marked for a sweep). */
static void
vb_lv_delete_volumes(GPtrArray *copies, gboolean source)
{
    for (guint i = 0; i < copies->len; i++) {
        VbLvVolCopy *copy = g_ptr_array_index(copies, i);
        virStorageVolPtr vol = source ? copy->src : copy->dst;

        if (!source && vol && copy->marked)
            vb_lv_partial_delete_copy(vol);
        else if (vol && virStorageVolDelete(vol, 0) < 0)
            g_debug("cannot delete volume %s: %s", virStorageVolGetName(vol),
                    virGetLastErrorMessage());
        virResetLastError();
    }
}

/* The guest is defined on the destination, on its copies: unmarked. */
static void
vb_lv_unmark_copies(GPtrArray *copies)
{
    for (guint i = 0; i < copies->len; i++) {
        VbLvVolCopy *copy = g_ptr_array_index(copies, i);

        if (copy->dst && copy->marked)
            vb_lv_partial_unmark(copy->dst);
        copy->marked = FALSE;
    }
}

/* Before copying: removes what an interrupted move of the same guest left on
 * the destination (its own marked, unused copies: libvirt-partial.c), which
 * would make the copy fail on "volume exists" at every retry. A sweep that
 * cannot read the destination's guests removes nothing; the copy then says
 * what is in the way. */
static void
vb_lv_sweep_leftovers(virConnectPtr sconn, virConnectPtr dconn, const VbLvDomain *def,
                      gboolean shared_storage)
{
    g_autoptr(GPtrArray) refs = vb_lv_cold_volumes(sconn, def, shared_storage);
    g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *message = NULL;

    if (!vb_lv_cold_sweep(dconn, refs, removed, &message))
        g_debug("%s: leftovers of an earlier copy not checked: %s", def->name, message);
    for (guint i = 0; i < removed->len; i++)
        g_debug("%s: removed the partial copy %s left by an interrupted move", def->name,
                (const char *) g_ptr_array_index(removed, i));
}

/* Undefines @dom keeping its NVRAM and dropping its metadata; a driver that
 * does not know the newer flags (checkpoints, keep-NVRAM: libvirt's test
 * driver, older hypervisor drivers) is asked again with the older ones. */
static int
vb_lv_undefine(virDomainPtr dom)
{
    unsigned int old = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;

    if (virDomainUndefineFlags(dom, old | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
                                        VIR_DOMAIN_UNDEFINE_KEEP_NVRAM) == 0)
        return 0;
    if (virGetLastErrorCode() != VIR_ERR_INVALID_ARG)
        return -1;
    virResetLastError();
    return virDomainUndefineFlags(dom, old);
}

gboolean
vb_lv_cold_move(virDomainPtr dom, virConnectPtr dconn, gboolean shared_storage,
                gboolean start_after, const char **ret_what, char **ret_message)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE |
                                                        VIR_DOMAIN_XML_SECURE |
                                                        VIR_DOMAIN_XML_MIGRATABLE);
    g_autoptr(GPtrArray) copies = g_ptr_array_new_with_free_func((GDestroyNotify) vb_lv_vol_copy_free);
    g_autoptr(VbLvDomain) def = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(virDomain) copy = NULL;

    *ret_what = "cannot read the definition of";
    if (!xml)
        return FALSE;
    /* The move was checked with the guest shut off, but it may have been
     * started since: never copy or undefine a running guest. */
    *ret_what = "cannot cold-move";
    if (virDomainIsActive(dom) != 0) {
        *ret_message = g_strdup("it is running (or its state cannot be read): "
                                "a cold move needs it shut off");
        return FALSE;
    }
    def = vb_lv_domain_parse(xml, &error);
    if (!def) {
        *ret_message = g_strdup(error->message);
        return FALSE;
    }
    vb_lv_sweep_leftovers(virDomainGetConnect(dom), dconn, def, shared_storage);
    *ret_what = "cannot copy the disks of";
    if (!vb_lv_copy_disks(virDomainGetConnect(dom), dconn, def, shared_storage, copies,
                          ret_message) ||
        !vb_lv_copy_nvram(virDomainGetConnect(dom), dconn, def, shared_storage, copies,
                          ret_message)) {
        vb_lv_delete_volumes(copies, FALSE);
        return FALSE;
    }
    *ret_what = "cannot define";
    copy = virDomainDefineXML(dconn, xml);
    if (!copy) {
        *ret_message = g_strdup(virGetLastErrorMessage());
        vb_lv_delete_volumes(copies, FALSE);
        return FALSE;
    }
    /* The copies are the guest's disks now: a sweep would keep them anyway
     * (the guest names them), and a marker must not outlive a partial copy. */
    vb_lv_unmark_copies(copies);
    *ret_what = "cannot undefine on the source, after defining on the destination,";
    if (vb_lv_undefine(dom) < 0) {
        *ret_message = g_strdup(virGetLastErrorMessage());
        /* Keep the guest defined exactly once: drop the copy. */
        vb_lv_undefine(copy);
        vb_lv_delete_volumes(copies, FALSE);
        return FALSE;
    }
    /* Undefining a guest that was started after the check above does not
     * remove it: it keeps running on the source, transient. Then the move
     * is undone (the source defined again, the copy dropped) and the source
     * volumes, which that guest uses, are kept. */
    if (virDomainIsActive(dom) == 1) {
        g_autoptr(virDomain) again = virDomainDefineXML(virDomainGetConnect(dom), xml);

        *ret_what = "cannot cold-move";
        *ret_message = g_strdup_printf("it was started during the move: %s",
                                       again ? "left running on the source"
                                             : "left running on the source, TRANSIENT (cannot "
                                               "define it again there)");
        virResetLastError();
        vb_lv_undefine(copy);
        vb_lv_delete_volumes(copies, FALSE);
        return FALSE;
    }
    virResetLastError();
    vb_lv_delete_volumes(copies, TRUE);
    *ret_what = "moved but cannot start";
    return !start_after || virDomainCreate(copy) == 0;
}
