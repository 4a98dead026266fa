/*
 * libvirt-partial.c: the partial disk copies an interrupted cold move leaves
 * on its destination, and how they are told apart from everyone else's data.
 *
 * A cold move (libvirt-cold.c) creates each copy on the destination with the
 * name and path of the source volume, and never overwrites a volume that is
 * already there. When the program is killed while copying (SIGKILL, a crash,
 * a power cut), nothing deletes the copy: the guest is still defined on its
 * source only, and every retry failed on "volume exists".
 *
 * A volume's name alone cannot say whose it is: an admin's copy, a disk left
 * by a live storage migration or another guest's volume look the same. So a
 * copy carries a proof that this program made it and has not finished it: an
 * empty marker volume NAME.vb-partial in the same pool, created right after
 * the copy itself (which is created exclusively: it did not exist before) and
 * removed once the guest is defined on the destination, when the copy is in
 * use. A crash between the two creations leaves an unmarked copy (kept: the
 * retry fails as before); one between the definition and the marker's
 * removal leaves the guest defined on both hosts, which reconciliation hands
 * to a person anyway.
 *
 * A sweep deletes a copy only when all of these hold: its marker is there, it
 * is at the path the move copies to, and no guest defined or running on the
 * destination mentions its path or its name anywhere in its XML (disks,
 * CD-ROMs, NVRAM, backing chains: a plain text search, so it errs on the side
 * of keeping). A guest's XML that cannot be read stops the sweep. The copy is
 * deleted before its marker, so an interrupted sweep never leaves an
 * unmarked copy. With shared storage disks are not copied and never swept;
 * a volume whose marker the source sees too (a shared folder, e.g. of NVRAM
 * files) is never swept either: the destination's would be the same file.
 *
 * The sweep runs before every cold move copies (so a retry, from any process,
 * removes its own leftovers first), and as the driver op cold_cleanup when
 * the executor reconciles a started cold move after a restart.
 */
#include "config.h"

#include <string.h>

#include "drivers/libvirt-priv.h"

void
vb_lv_vol_ref_free(VbLvVolRef *ref)
{
    if (!ref)
        return;
    g_free(ref->pool);
    g_free(ref->name);
    g_free(ref->path);
    g_free(ref);
}

static char *vb_lv_partial_name(const char *name);

/* A reference to the source volume @vol (transfer full), or NULL when it is
 * in no pool, or when the source sees a marker beside it too: then the
 * folder may be shared between the hosts (the destination's "copy" would be
 * the source's own file), and nothing of it is ever swept. */
static VbLvVolRef *
vb_lv_vol_ref_new(virStorageVolPtr vol)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume(vol);
    g_autofree char *mname = vb_lv_partial_name(virStorageVolGetName(vol));
    g_autoptr(virStorageVol) marker = pool ? virStorageVolLookupByName(pool, mname) : NULL;
    char *path = virStorageVolGetPath(vol);
    VbLvVolRef *ref;

    virResetLastError();
    if (!pool || !path || marker) {
        if (marker)
            g_debug("%s: a marker %s beside it on the source: never swept", path, mname);
        free(path);
        return NULL;
    }
    ref = g_new0(VbLvVolRef, 1);
    ref->pool = g_strdup(virStoragePoolGetName(pool));
    ref->name = g_strdup(virStorageVolGetName(vol));
    ref->path = g_strdup(path);
    free(path);
    return ref;
}

GPtrArray *
vb_lv_cold_volumes(virConnectPtr sconn, const VbLvDomain *def, gboolean shared_storage)
{
    GPtrArray *refs = g_ptr_array_new_with_free_func((GDestroyNotify) vb_lv_vol_ref_free);

    for (guint i = 0; !shared_storage && i < def->disks->len; i++) {
        const VbLvDisk *disk = g_ptr_array_index(def->disks, i);
        g_autofree char *message = NULL;
        g_autoptr(virStorageVol) vol = NULL;
        VbLvVolRef *ref;

        if (disk->network)
            continue;
        vol = vb_lv_disk_volume(sconn, disk, &message);
        if (vol && (ref = vb_lv_vol_ref_new(vol)))
            g_ptr_array_add(refs, ref);
    }
    if (def->nvram) {
        g_autoptr(virStorageVol) vol = virStorageVolLookupByPath(sconn, def->nvram);
        VbLvVolRef *ref;

        virResetLastError();
        if (vol && (ref = vb_lv_vol_ref_new(vol)))
            g_ptr_array_add(refs, ref);
    }
    return refs;
}

/* ------------------------------------------------------------ markers */

static char *
vb_lv_partial_name(const char *name)
{
    return g_strconcat(name, VB_LV_PARTIAL_SUFFIX, NULL);
}

gboolean
vb_lv_partial_mark(virStoragePoolPtr pool, virStorageVolPtr vol, char **ret_message)
{
    g_autofree char *name = vb_lv_partial_name(virStorageVolGetName(vol));
    g_autofree char *xml = NULL;
    g_autoptr(virStorageVol) marker = virStorageVolLookupByName(pool, name);

    virResetLastError();
    if (marker)
        return TRUE;
    /* One sector: some pool types (logical) refuse an empty volume. */
    xml = g_markup_printf_escaped("<volume><name>%s</name>"
                                  "<capacity unit='bytes'>512</capacity></volume>",
                                  name);
    marker = virStorageVolCreateXML(pool, xml, 0);
    if (marker)
        return TRUE;
    g_free(*ret_message);
    *ret_message = g_strdup_printf("cannot create the marker %s beside the copy: %s", name,
                                   virGetLastErrorMessage());
    virResetLastError();
    return FALSE;
}

/* Deletes the marker of volume @name in @pool, if there. */
static gboolean
vb_lv_partial_delete(virStoragePoolPtr pool, const char *name)
{
    g_autofree char *mname = vb_lv_partial_name(name);
    g_autoptr(virStorageVol) marker = virStorageVolLookupByName(pool, mname);
    gboolean ok = !marker || virStorageVolDelete(marker, 0) == 0;

    if (!ok)
        g_debug("cannot delete the marker %s: %s", mname, virGetLastErrorMessage());
    virResetLastError();
    return ok;
}

gboolean
vb_lv_partial_is_marked(virStorageVolPtr vol)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume(vol);
    g_autofree char *mname = vb_lv_partial_name(virStorageVolGetName(vol));
    g_autoptr(virStorageVol) marker = pool ? virStorageVolLookupByName(pool, mname) : NULL;

    virResetLastError();
    return marker != NULL;
}

void
vb_lv_partial_unmark(virStorageVolPtr vol)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume(vol);

    if (pool)
        vb_lv_partial_delete(pool, virStorageVolGetName(vol));
    virResetLastError();
}

gboolean
vb_lv_partial_delete_copy(virStorageVolPtr vol)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume(vol);
    g_autofree char *name = g_strdup(virStorageVolGetName(vol));

    if (!pool || virStorageVolDelete(vol, 0) < 0) {
        g_debug("cannot delete the copy %s: %s", name, virGetLastErrorMessage());
        virResetLastError();
        return FALSE;
    }
    return vb_lv_partial_delete(pool, name);
}

/* ------------------------------------------------------------ the sweep */

/* The XML (live, and persistent when it differs) of every guest on @conn,
 * one string each (transfer full), or NULL with @ret_message when one
 * cannot be read. */
static GPtrArray *
vb_lv_guest_xmls(virConnectPtr conn, char **ret_message)
{
    g_autoptr(GPtrArray) xmls = g_ptr_array_new_with_free_func(g_free);
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);
    gboolean ok = n >= 0;

    for (int i = 0; i < n; i++) {
        for (guint inactive = 0; ok && inactive < 2; inactive++) {
            char *xml = virDomainGetXMLDesc(doms[i], inactive ? VIR_DOMAIN_XML_INACTIVE : 0);

            ok = xml != NULL;
            if (xml)
                g_ptr_array_add(xmls, g_strdup(xml));
            free(xml);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    if (!ok) {
        g_free(*ret_message);
        *ret_message = g_strdup_printf("cannot read the guests of the destination: %s",
                                       virGetLastErrorMessage());
        virResetLastError();
        return NULL;
    }
    return g_steal_pointer(&xmls);
}

/* TRUE when some guest's XML in @xmls mentions @ref's path or name. */
static gboolean
vb_lv_vol_mentioned(GPtrArray *xmls, const VbLvVolRef *ref)
{
    g_autofree char *path = g_markup_escape_text(ref->path, -1);
    g_autofree char *name = g_markup_escape_text(ref->name, -1);

    for (guint i = 0; i < xmls->len; i++) {
        const char *xml = g_ptr_array_index(xmls, i);

        if (strstr(xml, path) || strstr(xml, name))
            return TRUE;
    }
    return FALSE;
}

/* Removes the partial copy of @ref from @pool if the rules at the top of the
 * file allow it; appends it to @removed when removed. */
static void
vb_lv_sweep_one(virStoragePoolPtr pool, const VbLvVolRef *ref, GPtrArray *xmls,
                GPtrArray *removed)
{
    g_autofree char *mname = vb_lv_partial_name(ref->name);
    g_autoptr(virStorageVol) marker = virStorageVolLookupByName(pool, mname);
    g_autoptr(virStorageVol) vol = NULL;

    virResetLastError();
    if (!marker)
        return; /* not ours, or not a leftover: never touched */
    vol = virStorageVolLookupByName(pool, ref->name);
    virResetLastError();
    if (vol) {
        char *path = virStorageVolGetPath(vol);
        gboolean here = g_strcmp0(path, ref->path) == 0;

        free(path);
        if (!here || vb_lv_vol_mentioned(xmls, ref)) {
            g_debug("keeping %s/%s: %s", ref->pool, ref->name,
                    here ? "a guest names it" : "at another path");
            return;
        }
        if (virStorageVolDelete(vol, 0) < 0) {
            g_debug("cannot delete the partial copy %s/%s: %s", ref->pool, ref->name,
                    virGetLastErrorMessage());
            virResetLastError();
            return; /* its marker stays: the next sweep tries again */
        }
        if (removed)
            g_ptr_array_add(removed, g_strdup_printf("%s/%s", ref->pool, ref->name));
    }
    vb_lv_partial_delete(pool, ref->name);
}

gboolean
vb_lv_cold_sweep(virConnectPtr dconn, GPtrArray *refs, GPtrArray *removed, char **ret_message)
{
    g_autoptr(GPtrArray) xmls = NULL;

    if (refs->len == 0)
        return TRUE;
    xmls = vb_lv_guest_xmls(dconn, ret_message);
    if (!xmls)
        return FALSE;
    for (guint i = 0; i < refs->len; i++) {
        const VbLvVolRef *ref = g_ptr_array_index(refs, i);
        g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(dconn, ref->pool);

        virResetLastError();
        if (pool)
            vb_lv_sweep_one(pool, ref, xmls, removed);
    }
    return TRUE;
}

/* ------------------------------------------------------------ the op */

typedef struct {
    char *vm;
    gboolean shared_storage;
    GPtrArray *refs;        /* filled on the source, swept on the destination */
} VbLvCleanup;

static void
vb_lv_cleanup_free(VbLvCleanup *c)
{
    g_free(c->vm);
    if (c->refs)
        g_ptr_array_unref(c->refs);
    g_free(c);
}

/* On the source (a call with a deadline): the volumes the move copies. */
static gpointer
vb_lv_cleanup_source_call(VbLvHost *host, virConnectPtr conn, gpointer arg, GError **error)
{
    VbLvCleanup *c = arg;
    g_autoptr(virDomain) dom = virDomainLookupByName(conn, c->vm);
    g_autofree char *xml = NULL;
    g_autoptr(VbLvDomain) def = NULL;

    if (!dom) {
        vb_lv_error(error, VB_ERROR_NOT_FOUND, host->name, "cannot find the guest");
        return NULL;
    }
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    if (!xml) {
        vb_lv_error(error, VB_ERROR_FAILED, host->name, "cannot read the guest's definition");
        return NULL;
    }
    def = vb_lv_domain_parse(xml, error);
    return def ? vb_lv_cold_volumes(conn, def, c->shared_storage) : NULL;
}

/* On the destination (a call with a deadline): the sweep; "pool/name" of
 * each removed copy, NULL-terminated (never NULL on success). */
static gpointer
vb_lv_cleanup_dest_call(VbLvHost *host, virConnectPtr conn, gpointer arg, GError **error)
{
    VbLvCleanup *c = arg;
    g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *message = NULL;

    if (!vb_lv_cold_sweep(conn, c->refs, removed, &message)) {
        g_set_error(error, VB_ERROR, VB_ERROR_FAILED, "%s: %s", host->name, message);
        return NULL;
    }
    g_ptr_array_add(removed, NULL);
    return g_ptr_array_steal(removed, NULL);
}

char **
vb_lv_cold_cleanup(VbConn *conn, const char *vm, const char *from, const char *to,
                   GError **error)
{
    VbLvHost *src = vb_lv_conn_host(conn, from), *dst = vb_lv_conn_host(conn, to);
    VbLvCleanup *c;
    GPtrArray *refs;

    if (!src || !dst || src == dst) {
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND,
                    "cannot clean up after '%s' from %s to %s: %s", vm, from, to,
                    src == dst && src ? "same host" : "unknown host");
        return NULL;
    }
    /* Each call owns its argument: a worker past its deadline may still use it. */
    c = g_new0(VbLvCleanup, 1);
    c->vm = g_strdup(vm);
    c->shared_storage = src->shared_storage && dst->shared_storage;
    refs = vb_lv_host_call(src, vb_lv_cleanup_source_call, c, (GDestroyNotify) vb_lv_cleanup_free,
                           (GDestroyNotify) g_ptr_array_unref, 0, error);
    if (!refs)
        return NULL;
    c = g_new0(VbLvCleanup, 1);
    c->refs = refs;
    return vb_lv_host_call(dst, vb_lv_cleanup_dest_call, c, (GDestroyNotify) vb_lv_cleanup_free,
                           (GDestroyNotify) g_strfreev, 0, error);
}
