/*
 * inventory.c: loading the inventory file (docs/inventory.md) into a
 * VbInventory, with "file:line:column: what is wrong" for every mistake.
 *
 * Workload: the sim driver, the CLI's --inventory and the benchmarks load
 * files of up to 200,000 guests (one flow-style line each), and up to a
 * million in the benchmarks, so the loader must stay well under 2 s at
 * 200,000 and must not hold a million guests as a YAML tree (some 30 million
 * nodes): guests are streamed, one at a time (see "streaming" below). Each mapping's keys are walked exactly once:
 * every key is matched against the small static key list of its object
 * (first character, then strcmp) and its value node is remembered in a slot
 * array indexed by the key's enum; the object is then read slot by slot in a
 * fixed order. No per-object hash table is built, and no key is looked up by
 * scanning the mapping again. Error texts (which need the object's name)
 * are only formatted on the failure path.
 *
 * Invariants: the inventory is built only through pool.c's adders, so ids are
 * dense and every cross reference is valid; on any error the half-built
 * inventory is freed and nothing is returned. Pools (with their hosts) are
 * read before guests whatever the order of the top-level keys, since guests
 * name their host.
 */
#include "config.h"

#include <string.h>

#include "pool/inventory-priv.h"

/* What an error message names: "guest 'web1' disks[0] size_gib" (transfer full). */
static char *
loader_what(const VbInventoryLoader *l, const char *key)
{
    GString *s = g_string_new(l->kind);

    if (l->name) {
        g_autofree char *shown = vb_text_quote(l->name);

        g_string_append_printf(s, " '%s'", shown);
    }
    if (l->sub)
        g_string_append_printf(s, " %s", l->sub);
    if (l->sub_index >= 0)
        g_string_append_printf(s, "[%d]", l->sub_index);
    if (key)
        g_string_append_printf(s, " %s", key);
    return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- readers
 * Each tries the util reader without an error first (the common, fast path)
 * and only on failure builds the message's subject and reads again to get
 * the exact error. The util readers are pure, so the second call fails alike. */

static gboolean
read_u64(const VbInventoryLoader *l, const VbYamlNode *n, const char *key, guint64 min, guint64 max,
         guint64 *ret, GError **error)
{
    g_autofree char *what = NULL;

    if (vb_yaml_get_uint64(l->doc, n, key, min, max, ret, NULL))
        return TRUE;
    what = loader_what(l, key);
    return vb_yaml_get_uint64(l->doc, n, what, min, max, ret, error);
}

static gboolean
read_uint(const VbInventoryLoader *l, const VbYamlNode *n, const char *key, guint min, guint max,
          guint *ret, GError **error)
{
    guint64 value;

    if (!read_u64(l, n, key, min, max, &value, error))
        return FALSE;
    *ret = (guint) value;
    return TRUE;
}

static gboolean
read_double(const VbInventoryLoader *l, const VbYamlNode *n, const char *key, double min,
            double max, double *ret, GError **error)
{
    g_autofree char *what = NULL;

    if (vb_yaml_get_double(l->doc, n, key, min, max, ret, NULL))
        return TRUE;
    what = loader_what(l, key);
    return vb_yaml_get_double(l->doc, n, what, min, max, ret, error);
}

static gboolean
read_bool(const VbInventoryLoader *l, const VbYamlNode *n, const char *key, gboolean *ret,
          GError **error)
{
    g_autofree char *what = NULL;

    if (vb_yaml_get_bool(l->doc, n, key, ret, NULL))
        return TRUE;
    what = loader_what(l, key);
    return vb_yaml_get_bool(l->doc, n, what, ret, error);
}

static gboolean
read_string(const VbInventoryLoader *l, const VbYamlNode *n, const char *key, char **ret,
            GError **error)
{
    g_autofree char *what = NULL;

    if (vb_yaml_get_string(l->doc, n, key, ret, NULL))
        return TRUE;
    what = loader_what(l, key);
    return vb_yaml_get_string(l->doc, n, what, ret, error);
}

/* Like read_string, but borrows the text from the document (no copy): for
 * names that the adders copy anyway. */
static gboolean
read_text(const VbInventoryLoader *l, const VbYamlNode *n, const char *key, const char **ret,
          GError **error)
{
    g_autofree char *copy = NULL;

    if (vb_yaml_node_kind(n) == VB_YAML_SCALAR && !vb_yaml_node_is_null(l->doc, n) &&
        !vb_text_find_unsafe(vb_yaml_node_value(l->doc, n))) {
        *ret = vb_yaml_node_value(l->doc, n);
        return TRUE;
    }
    /* Not a usable scalar: read_string words the error and fails. */
    if (read_string(l, n, key, &copy, error))
        g_assert_not_reached();
    return FALSE;
}

static gboolean
read_enum(const VbInventoryLoader *l, const VbYamlNode *n, const char *key,
          const char *const *names, guint *ret, GError **error)
{
    g_autofree char *what = NULL;

    if (vb_yaml_get_enum(l->doc, n, key, names, ret, NULL))
        return TRUE;
    what = loader_what(l, key);
    return vb_yaml_get_enum(l->doc, n, what, names, ret, error);
}

static gboolean
read_strv(const VbInventoryLoader *l, const VbYamlNode *n, const char *key, char ***ret,
          GError **error)
{
    g_autofree char *what = NULL;

    if (vb_yaml_get_strv(l->doc, n, key, ret, NULL))
        return TRUE;
    what = loader_what(l, key);
    return vb_yaml_get_strv(l->doc, n, what, ret, error);
}

static gboolean
expect_list(const VbInventoryLoader *l, const VbYamlNode *n, const char *key, GError **error)
{
    g_autofree char *what = NULL;

    if (vb_yaml_node_kind(n) == VB_YAML_SEQUENCE)
        return TRUE;
    what = loader_what(l, key);
    return vb_yaml_expect_kind(l->doc, n, VB_YAML_SEQUENCE, what, error);
}

/* Reads a name or a list of names and calls @add for each (labels,
 * features). The common shapes are read in place, without the copies
 * vb_yaml_get_strv makes; anything else goes to it for the error. */
static gboolean
read_names(const VbInventoryLoader *l, const VbYamlNode *n, const char *key,
           void (*add)(VbInventory *, gpointer, const char *), gpointer object,
           GError **error)
{
    g_auto(GStrv) names = NULL;

    if (vb_yaml_node_kind(n) == VB_YAML_SEQUENCE) {
        const VbYamlNode *item;

        for (item = vb_yaml_node_first(l->doc, n); item; item = vb_yaml_node_next(l->doc, item)) {
            if (vb_yaml_node_kind(item) != VB_YAML_SCALAR || vb_yaml_node_is_null(l->doc, item) ||
                vb_text_find_unsafe(vb_yaml_node_value(l->doc, item)))
                break;
        }
        if (!item) {
            for (item = vb_yaml_node_first(l->doc, n); item;
                 item = vb_yaml_node_next(l->doc, item))
                add(l->inv, object, vb_yaml_node_value(l->doc, item));
            return TRUE;
        }
    }
    if (!read_strv(l, n, key, &names, error))
        return FALSE;
    for (guint i = 0; names[i]; i++)
        add(l->inv, object, names[i]);
    return TRUE;
}

/* NULL for an empty list, so that "no devices" is one representation. */
static gboolean
read_optional_strv(const VbInventoryLoader *l, const VbYamlNode *n, const char *key, char ***ret,
                   GError **error)
{
    char **v = NULL;

    if (!read_strv(l, n, key, &v, error))
        return FALSE;
    if (!v[0])
        g_clear_pointer(&v, g_strfreev);
    *ret = v;
    return TRUE;
}

/* ------------------------------------------------------------ key slots */

/* Index of @key in the NULL-terminated @keys, or -1. Key lists are short
 * (at most 16) and compared by first character before strcmp. */
static gint
key_index(const char *key, const char *const *keys)
{
    for (gint i = 0; keys[i]; i++) {
        if (keys[i][0] == key[0] && strcmp(keys[i], key) == 0)
            return i;
    }
    return -1;
}

/* Walks the pairs of mapping @map once and stores each value in @slots at its
 * key's index (slots must hold one entry per key, zeroed by the caller).
 * Unknown and repeated keys are refused with util's message (which lists the
 * allowed keys and suggests the closest one). */
static gboolean
collect_keys(VbInventoryLoader *l, const VbYamlNode *map, const char *const *keys,
             const VbYamlNode **slots, GError **error)
{
    const VbYamlDoc *doc = l->doc;

    if (vb_yaml_node_kind(map) == VB_YAML_MAPPING) {
        const VbYamlNode *k;

        for (k = vb_yaml_node_first(doc, map); k; k = vb_yaml_node_next(doc, k)) {
            const char *text = vb_yaml_node_value(doc, k);
            const VbYamlNode *v = vb_yaml_node_next(doc, k);
            gint i = text ? key_index(text, keys) : -1;

            if (i < 0 || slots[i])
                break;
            slots[i] = v;
            k = v;
        }
        if (!k)
            return TRUE;
    }
    /* Failure path: let util find and word the first problem. */
    {
        g_autofree char *what = NULL;
        const VbYamlNode *name = vb_yaml_mapping_get(doc, map, "name");

        if (!l->name && name && vb_yaml_node_kind(name) == VB_YAML_SCALAR)
            l->name = vb_yaml_node_value(doc, name);
        what = loader_what(l, NULL);
        if (vb_yaml_check_mapping(doc, map, what, keys, error))
            g_assert_not_reached();
        return FALSE;
    }
}

static gboolean
missing_key(const VbInventoryLoader *l, const VbYamlNode *map, const char *key, GError **error)
{
    g_autofree char *what = loader_what(l, NULL);

    return vb_yaml_error(error, l->doc, map, "%s: missing required key '%s'", what, key);
}

/* Refuses a name defined twice, pointing at the first definition. */
static gboolean
refuse_duplicate(const VbInventoryLoader *l, const VbYamlNode *n, GHashTable *table,
                 GPtrArray *objects, GArray *lines, const char *kind, const char *name,
                 GError **error)
{
    gpointer first = g_hash_table_lookup(table, name);
    guint line = 0;
    g_autofree char *shown = NULL;

    if (!first)
        return TRUE;
    for (guint i = 0; i < objects->len; i++) {
        if (g_ptr_array_index(objects, i) == first) {
            line = g_array_index(lines, guint, i);
            break;
        }
    }
    shown = vb_text_quote(name);
    return vb_yaml_error(error, l->doc, n, "%s '%s' is defined twice (first at line %u)", kind,
                         shown, line);
}

/* Reads the `name` slot (borrowed from the document); @kind labels messages. */
static gboolean
read_name(VbInventoryLoader *l, const VbYamlNode *map, const VbYamlNode *slot, const char **ret,
          GError **error)
{
    if (!slot)
        return missing_key(l, map, "name", error);
    if (!read_text(l, slot, "name", ret, error))
        return FALSE;
    if (!**ret) {
        g_autofree char *what = loader_what(l, "name");

        return vb_yaml_error(error, l->doc, slot, "%s: must not be empty", what);
    }
    l->name = *ret;
    return TRUE;
}

/* ------------------------------------------------------------------ hosts */

enum { HK_NAME, HK_URI, HK_HYPERVISOR, HK_CPU, HK_MEMORY, HK_STORAGE, HK_STATE, HK_REASON,
       HK_LABELS, HK_CPU_USAGE, HK_CPU_STDDEV, HK_MEMORY_USED, HK_BANDWIDTH, HK_LAST };
static const char *const host_keys[] = {
    "name", "uri", "hypervisor", "cpu", "memory_mib", "storage", "state", "state_reason",
    "labels", "cpu_usage", "cpu_stddev", "memory_used_mib", "migration_bandwidth_mib_s", NULL
};
G_STATIC_ASSERT(G_N_ELEMENTS(host_keys) == HK_LAST + 1);

enum { CK_VENDOR, CK_MODEL, CK_CORES, CK_FEATURES, CK_LAST };
static const char *const cpu_keys[] = { "vendor", "model", "cores", "features", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(cpu_keys) == CK_LAST + 1);

enum { SK_TOTAL, SK_FREE, SK_LAST };
static const char *const storage_keys[] = { "total_gib", "free_gib", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(storage_keys) == SK_LAST + 1);

static void
add_host_feature(VbInventory *inv, gpointer host, const char *name)
{
    vb_host_add_feature(inv, host, name);
}

static void
add_host_label(VbInventory *inv, gpointer host, const char *name)
{
    vb_host_add_label(inv, host, name);
}

static void
add_vm_feature(VbInventory *inv, gpointer vm, const char *name)
{
    vb_vm_add_feature(inv, vm, name);
}

static void
add_vm_label(VbInventory *inv, gpointer vm, const char *name)
{
    vb_vm_add_label(inv, vm, name);
}

static gboolean
load_host_cpu(VbInventoryLoader *l, VbHost *host, const VbYamlNode *map, GError **error)
{
    const VbYamlNode *s[CK_LAST] = { 0 };

    l->sub = "cpu";
    if (!collect_keys(l, map, cpu_keys, s, error))
        return FALSE;
    if (!s[CK_VENDOR])
        return missing_key(l, map, "vendor", error);
    if (!s[CK_CORES])
        return missing_key(l, map, "cores", error);
    if (!read_string(l, s[CK_VENDOR], "vendor", &host->cpu_vendor, error))
        return FALSE;
    if (s[CK_MODEL] && !read_string(l, s[CK_MODEL], "model", &host->cpu_model, error))
        return FALSE;
    if (!read_uint(l, s[CK_CORES], "cores", 1, VB_MAX_CORES, &host->cpu_cores, error))
        return FALSE;
    if (s[CK_FEATURES] &&
        !read_names(l, s[CK_FEATURES], "features", add_host_feature, host, error))
        return FALSE;
    l->sub = NULL;
    return TRUE;
}

static gboolean
load_host_storage(VbInventoryLoader *l, VbHost *host, const VbYamlNode *map, GError **error)
{
    const VbYamlNode *s[SK_LAST] = { 0 };

    l->sub = "storage";
    if (!collect_keys(l, map, storage_keys, s, error))
        return FALSE;
    if (!s[SK_TOTAL])
        return missing_key(l, map, "total_gib", error);
    if (!read_double(l, s[SK_TOTAL], "total_gib", 0, VB_MAX_GIB, &host->storage_total_gib,
                     error))
        return FALSE;
    host->storage_free_gib = host->storage_total_gib;
    if (s[SK_FREE] && !read_double(l, s[SK_FREE], "free_gib", 0, VB_MAX_GIB,
                                   &host->storage_free_gib, error))
        return FALSE;
    if (host->storage_free_gib > host->storage_total_gib) {
        g_autofree char *what = loader_what(l, NULL);

        return vb_yaml_error(error, l->doc, s[SK_FREE],
                             "%s: free_gib %g is larger than total_gib %g", what,
                             host->storage_free_gib, host->storage_total_gib);
    }
    l->sub = NULL;
    return TRUE;
}

/* The measured load: usage fraction, memory used (not above the memory). */
static gboolean
load_host_load(VbInventoryLoader *l, VbHost *host, const VbYamlNode **s, GError **error)
{
    if (s[HK_CPU_USAGE] &&
        !read_double(l, s[HK_CPU_USAGE], "cpu_usage", 0, 1, &host->cpu_usage, error))
        return FALSE;
    if (s[HK_CPU_STDDEV] &&
        !read_double(l, s[HK_CPU_STDDEV], "cpu_stddev", 0, 1, &host->cpu_stddev, error))
        return FALSE;
    if (s[HK_MEMORY_USED] && !read_u64(l, s[HK_MEMORY_USED], "memory_used_mib", 0, VB_MAX_MIB,
                                       &host->memory_used_mib, error))
        return FALSE;
    if (host->memory_used_mib > host->memory_mib) {
        g_autofree char *what = loader_what(l, NULL);

        return vb_yaml_error(error, l->doc, s[HK_MEMORY_USED],
                             "%s: memory_used_mib %" G_GUINT64_FORMAT
                             " is larger than memory_mib %" G_GUINT64_FORMAT,
                             what, host->memory_used_mib, host->memory_mib);
    }
    if (s[HK_BANDWIDTH] &&
        !read_double(l, s[HK_BANDWIDTH], "migration_bandwidth_mib_s", 0, VB_MAX_RATE,
                     &host->migration_bandwidth_mib_s, error))
        return FALSE;
    return TRUE;
}

static gboolean
load_host_fields(VbInventoryLoader *l, VbHost *host, const VbYamlNode *map, const VbYamlNode **s,
                 GError **error)
{
    guint state = VB_HOST_STATE_UP;

    if (!s[HK_CPU])
        return missing_key(l, map, "cpu", error);
    if (!s[HK_MEMORY])
        return missing_key(l, map, "memory_mib", error);
    if (s[HK_URI] && !read_string(l, s[HK_URI], "uri", &host->uri, error))
        return FALSE;
    if (s[HK_HYPERVISOR] &&
        !read_string(l, s[HK_HYPERVISOR], "hypervisor", &host->hypervisor, error))
        return FALSE;
    if (!host->hypervisor)
        host->hypervisor = g_strdup("kvm");
    if (!load_host_cpu(l, host, s[HK_CPU], error))
        return FALSE;
    if (!read_u64(l, s[HK_MEMORY], "memory_mib", 1, VB_MAX_MIB, &host->memory_mib, error))
        return FALSE;
    if (s[HK_STORAGE] && !load_host_storage(l, host, s[HK_STORAGE], error))
        return FALSE;
    if (s[HK_STATE] && !read_enum(l, s[HK_STATE], "state", vb_host_state_names, &state, error))
        return FALSE;
    host->state = state;
    if (s[HK_REASON] && !read_string(l, s[HK_REASON], "state_reason", &host->state_reason,
                                     error))
        return FALSE;
    if (s[HK_LABELS] && !read_names(l, s[HK_LABELS], "labels", add_host_label, host, error))
        return FALSE;
    return load_host_load(l, host, s, error);
}

static gboolean
load_host(VbInventoryLoader *l, VbPool *pool, const VbYamlNode *map, GError **error)
{
    const VbYamlNode *s[HK_LAST] = { 0 };
    const char *name = NULL;
    VbHost *host;
    guint line = vb_yaml_node_line(map);

    l->kind = "host";
    l->name = NULL;
    l->sub = NULL;
    l->sub_index = -1;
    if (!collect_keys(l, map, host_keys, s, error))
        return FALSE;
    if (!read_name(l, map, s[HK_NAME], &name, error))
        return FALSE;
    /* The adder refuses a name taken (one lookup); only then is the
     * message worded, pointing at the first definition. */
    host = vb_inventory_add_host(l->inv, pool, name, NULL);
    if (!host) {
        if (!refuse_duplicate(l, s[HK_NAME], l->inv->host_by_name, l->inv->hosts,
                              l->host_lines, "host", name, error))
            return FALSE;
        g_assert_not_reached();
    }
    g_array_append_val(l->host_lines, line);
    l->name = host->name;
    return load_host_fields(l, host, map, s, error);
}

/* ------------------------------------------------------------------ pools */

enum { PK_NAME, PK_SHARED, PK_HOSTS, PK_LAST };
static const char *const pool_keys[] = { "name", "shared_storage", "hosts", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(pool_keys) == PK_LAST + 1);

gboolean
vb_inventory_load_pool(VbInventoryLoader *l, const VbYamlNode *map, GError **error)
{
    const VbYamlNode *s[PK_LAST] = { 0 };
    const char *name = NULL;
    VbPool *pool;
    guint line = vb_yaml_node_line(map);

    l->kind = "pool";
    l->name = NULL;
    l->sub = NULL;
    l->sub_index = -1;
    if (!collect_keys(l, map, pool_keys, s, error))
        return FALSE;
    if (!read_name(l, map, s[PK_NAME], &name, error))
        return FALSE;
    if (!s[PK_HOSTS])
        return missing_key(l, map, "hosts", error);
    if (!refuse_duplicate(l, s[PK_NAME], l->inv->pool_by_name, l->inv->pools, l->pool_lines,
                          "pool", name, error))
        return FALSE;
    pool = vb_inventory_add_pool(l->inv, name, error);
    g_assert(pool);
    g_array_append_val(l->pool_lines, line);
    l->name = pool->name;
    if (s[PK_SHARED] &&
        !read_bool(l, s[PK_SHARED], "shared_storage", &pool->shared_storage, error))
        return FALSE;
    if (!expect_list(l, s[PK_HOSTS], "hosts", error))
        return FALSE;
    for (const VbYamlNode *h = vb_yaml_node_first(l->doc, s[PK_HOSTS]); h;
         h = vb_yaml_node_next(l->doc, h)) {
        if (!load_host(l, pool, h, error))
            return FALSE;
    }
    return TRUE;
}

/* ----------------------------------------------------------------- guests */

enum { VK_NAME, VK_HOST, VK_STATE, VK_VCPUS, VK_MEMORY, VK_CPU_USAGE, VK_DIRTY, VK_CPU,
       VK_DISKS, VK_DEVICES, VK_TAGS, VK_LABELS, VK_LAST_MIGRATED, VK_ON_TWO_HOSTS,
       VK_MOVES_LAST_DAY, VK_LAST };
static const char *const vm_keys[] = {
    "name", "host", "state", "vcpus", "memory_mib", "cpu_usage", "dirty_rate_mib_s", "cpu",
    "disks", "devices", "tags", "labels", "last_migrated", "on_two_hosts",
    "moves_last_day", NULL
};
G_STATIC_ASSERT(G_N_ELEMENTS(vm_keys) == VK_LAST + 1);

enum { GC_MODE, GC_MODEL, GC_FEATURES, GC_LAST };
static const char *const vm_cpu_keys[] = { "mode", "model", "features", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(vm_cpu_keys) == GC_LAST + 1);

enum { DK_NAME, DK_SIZE, DK_SHARED, DK_LAST };
static const char *const disk_keys[] = { "name", "size_gib", "shared", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(disk_keys) == DK_LAST + 1);

static gboolean
load_vm_cpu(VbInventoryLoader *l, VbVm *vm, const VbYamlNode *map, GError **error)
{
    const VbYamlNode *s[GC_LAST] = { 0 };
    guint mode = VB_CPU_MODE_CUSTOM;

    l->sub = "cpu";
    if (!collect_keys(l, map, vm_cpu_keys, s, error))
        return FALSE;
    if (s[GC_MODE] && !read_enum(l, s[GC_MODE], "mode", vb_cpu_mode_names, &mode, error))
        return FALSE;
    vm->cpu_mode = mode;
    if (s[GC_MODEL] && !read_string(l, s[GC_MODEL], "model", &vm->cpu_model, error))
        return FALSE;
    if (s[GC_FEATURES] &&
        !read_names(l, s[GC_FEATURES], "features", add_vm_feature, vm, error))
        return FALSE;
    l->sub = NULL;
    return TRUE;
}

static gboolean
load_disk(VbInventoryLoader *l, VbVm *vm, gboolean shared_default, const VbYamlNode *map,
          GError **error)
{
    const VbYamlNode *s[DK_LAST] = { 0 };
    g_autofree char *name = NULL;
    double size = 0;
    gboolean shared = shared_default;

    if (!collect_keys(l, map, disk_keys, s, error))
        return FALSE;
    if (!s[DK_NAME])
        return missing_key(l, map, "name", error);
    if (!s[DK_SIZE])
        return missing_key(l, map, "size_gib", error);
    if (!read_string(l, s[DK_NAME], "name", &name, error))
        return FALSE;
    for (guint i = 0; i < vm->n_disks; i++) {
        if (g_str_equal(vm->disks[i].name, name)) {
            g_autofree char *qvm = vb_text_quote(vm->name), *qdisk = vb_text_quote(name);

            return vb_yaml_error(error, l->doc, s[DK_NAME],
                                 "guest '%s': disk '%s' is listed twice", qvm, qdisk);
        }
    }
    if (!read_double(l, s[DK_SIZE], "size_gib", 0, VB_MAX_GIB, &size, error))
        return FALSE;
    if (s[DK_SHARED] && !read_bool(l, s[DK_SHARED], "shared", &shared, error))
        return FALSE;
    vb_vm_add_disk(vm, name, size, shared);
    return TRUE;
}

static gboolean
load_vm_disks(VbInventoryLoader *l, VbVm *vm, const VbYamlNode *list, GError **error)
{
    const VbHost *host = vb_inventory_host(l->inv, vm->host);
    gboolean shared = vb_inventory_pool(l->inv, host->pool)->shared_storage;
    gint index = 0;

    if (!expect_list(l, list, "disks", error))
        return FALSE;
    l->sub = "disks";
    for (const VbYamlNode *d = vb_yaml_node_first(l->doc, list); d;
         d = vb_yaml_node_next(l->doc, d)) {
        l->sub_index = index++;
        if (!load_disk(l, vm, shared, d, error))
            return FALSE;
    }
    l->sub = NULL;
    l->sub_index = -1;
    return TRUE;
}

/* The host named by @slot, or NULL (no error) when it is not a usable name
 * of a host defined so far. */
static VbHost *
find_host(const VbInventoryLoader *l, const VbYamlNode *slot)
{
    const char *name;

    if (vb_yaml_node_kind(slot) != VB_YAML_SCALAR || vb_yaml_node_is_null(l->doc, slot))
        return NULL;
    name = vb_yaml_node_value(l->doc, slot);
    if (vb_text_find_unsafe(name))
        return NULL;
    return vb_inventory_get_host(l->inv, name);
}

/* The guest's host: must be defined in some pool. */
static gboolean
resolve_host(VbInventoryLoader *l, const VbYamlNode *slot, VbHost **ret, GError **error)
{
    const char *name = NULL;
    g_autofree const char **names = NULL;
    const char *guess;
    VbHost *host;
    g_autofree char *qvm = NULL, *qhost = NULL;

    if (!read_text(l, slot, "host", &name, error))
        return FALSE;
    host = vb_inventory_get_host(l->inv, name);
    if (host) {
        *ret = host;
        return TRUE;
    }
    names = g_new0(const char *, l->inv->hosts->len + 1);
    for (guint i = 0; i < l->inv->hosts->len; i++)
        names[i] = vb_inventory_host(l->inv, i)->name;
    guess = vb_closest_word(name, names);
    qvm = vb_text_quote(l->name);
    qhost = vb_text_quote(name);
    if (guess)
        return vb_yaml_error(error, l->doc, slot,
                             "guest '%s': host '%s' is not defined in any pool "
                             "(did you mean '%s'?)", qvm, qhost, guess);
    return vb_yaml_error(error, l->doc, slot, "guest '%s': host '%s' is not defined in any pool",
                         qvm, qhost);
}

static gboolean
load_vm_lists(VbInventoryLoader *l, VbVm *vm, const VbYamlNode **s, GError **error)
{
    guint64 last = 0;

    if (s[VK_CPU] && !load_vm_cpu(l, vm, s[VK_CPU], error))
        return FALSE;
    if (s[VK_DISKS] && !load_vm_disks(l, vm, s[VK_DISKS], error))
        return FALSE;
    if (s[VK_DEVICES] && !read_optional_strv(l, s[VK_DEVICES], "devices", &vm->devices, error))
        return FALSE;
    if (s[VK_TAGS] && !read_optional_strv(l, s[VK_TAGS], "tags", &vm->tags, error))
        return FALSE;
    if (s[VK_LABELS] && !read_names(l, s[VK_LABELS], "labels", add_vm_label, vm, error))
        return FALSE;
    if (s[VK_LAST_MIGRATED] && !read_u64(l, s[VK_LAST_MIGRATED], "last_migrated", 0,
                                         G_MAXINT64, &last, error))
        return FALSE;
    vm->last_migrated = (gint64) last;
    if (s[VK_ON_TWO_HOSTS] &&
        !read_bool(l, s[VK_ON_TWO_HOSTS], "on_two_hosts", &vm->on_two_hosts, error))
        return FALSE;
    if (s[VK_MOVES_LAST_DAY] && !read_uint(l, s[VK_MOVES_LAST_DAY], "moves_last_day", 0,
                                           VB_MAX_MOVES_PER_DAY, &vm->moves_last_day, error))
        return FALSE;
    return TRUE;
}

static gboolean
load_vm_fields(VbInventoryLoader *l, VbVm *vm, const VbYamlNode **s, GError **error)
{
    guint state = VB_VM_STATE_RUNNING;

    if (s[VK_STATE] && !read_enum(l, s[VK_STATE], "state", vb_vm_state_names, &state, error))
        return FALSE;
    vm->state = state;
    if (s[VK_VCPUS] && !read_uint(l, s[VK_VCPUS], "vcpus", 1, VB_MAX_CORES, &vm->vcpus, error))
        return FALSE;
    if (!read_u64(l, s[VK_MEMORY], "memory_mib", 1, VB_MAX_MIB, &vm->memory_mib, error))
        return FALSE;
    if (s[VK_CPU_USAGE] &&
        !read_double(l, s[VK_CPU_USAGE], "cpu_usage", 0, 1, &vm->cpu_usage, error))
        return FALSE;
    if (s[VK_DIRTY] && !read_double(l, s[VK_DIRTY], "dirty_rate_mib_s", 0, VB_MAX_RATE,
                                    &vm->dirty_rate_mib_s, error))
        return FALSE;
    return load_vm_lists(l, vm, s, error);
}

gboolean
vb_inventory_load_vm(VbInventoryLoader *l, const VbYamlNode *map, GError **error)
{
    const VbYamlNode *s[VK_LAST] = { 0 };
    const char *name = NULL;
    VbHost *host = NULL;
    VbVm *vm;
    guint line = vb_yaml_node_line(map);

    l->kind = "guest";
    l->name = NULL;
    l->sub = NULL;
    l->sub_index = -1;
    if (!collect_keys(l, map, vm_keys, s, error))
        return FALSE;
    if (!read_name(l, map, s[VK_NAME], &name, error))
        return FALSE;
    if (!s[VK_HOST])
        return missing_key(l, map, "host", error);
    if (!s[VK_MEMORY])
        return missing_key(l, map, "memory_mib", error);
    /* Common case first, without errors: a known host and a new name (the
     * adder's one lookup); otherwise the checks in their order, for the
     * message: a name defined twice, then the host. */
    host = find_host(l, s[VK_HOST]);
    vm = host ? vb_inventory_add_vm(l->inv, host, name, NULL) : NULL;
    if (!vm) {
        if (!refuse_duplicate(l, s[VK_NAME], l->inv->vm_by_name, l->inv->vms, l->vm_lines,
                              "guest", name, error) ||
            !resolve_host(l, s[VK_HOST], &host, error))
            return FALSE;
        g_assert_not_reached();
    }
    g_array_append_val(l->vm_lines, line);
    l->name = vm->name;
    return load_vm_fields(l, vm, s, error);
}

/* -------------------------------------------------------------- the file */

enum { TK_POOLS, TK_VMS, TK_LAST };
static const char *const top_keys[] = { "pools", "vms", NULL };

gboolean
vb_inventory_load_list(VbInventoryLoader *l, const VbYamlNode *list, const char *key,
                       VbInventoryLoadOne load_one, GError **error)
{
    l->kind = "inventory";
    l->name = NULL;
    l->sub = NULL;
    l->sub_index = -1;
    if (!expect_list(l, list, key, error))
        return FALSE;
    for (const VbYamlNode *n = vb_yaml_node_first(l->doc, list); n;
         n = vb_yaml_node_next(l->doc, n)) {
        if (!load_one(l, n, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vb_inventory_load_doc(VbInventoryLoader *l, GError **error)
{
    const VbYamlNode *root = vb_yaml_doc_root(l->doc);
    const VbYamlNode *s[TK_LAST] = { 0 };

    l->kind = "inventory";
    l->sub_index = -1;
    if (!root)
        return vb_yaml_error(error, l->doc, NULL,
                             "inventory: the file is empty; expected 'pools' (and 'vms')");
    if (!collect_keys(l, root, top_keys, s, error))
        return FALSE;
    if (!s[TK_POOLS])
        return missing_key(l, root, "pools", error);
    if (!vb_inventory_load_list(l, s[TK_POOLS], "pools", vb_inventory_load_pool, error))
        return FALSE;
    if (s[TK_VMS] && !vb_inventory_load_list(l, s[TK_VMS], "vms", vb_inventory_load_vm, error))
        return FALSE;
    return TRUE;
}

gboolean
vb_inventory_loader_root_ok(VbInventoryLoader *l)
{
    const VbYamlNode *s[TK_LAST] = { 0 };

    return collect_keys(l, vb_yaml_doc_root(l->doc), top_keys, s, NULL);
}

/* A loader with its own new inventory and line arrays. */
void
vb_inventory_loader_init(VbInventoryLoader *l, const VbYamlDoc *doc)
{
    *l = (VbInventoryLoader){
        .doc = doc,
        .inv = vb_inventory_new(),
        .pool_lines = g_array_new(FALSE, FALSE, sizeof(guint)),
        .host_lines = g_array_new(FALSE, FALSE, sizeof(guint)),
        .vm_lines = g_array_new(FALSE, FALSE, sizeof(guint)),
        .sub_index = -1,
    };
}

/* Frees what vb_inventory_loader_init() made but the inventory, which is returned
 * (transfer full; NULL after a half-done load is freed instead). */
VbInventory *
vb_inventory_loader_finish(VbInventoryLoader *l, gboolean ok)
{
    g_array_unref(l->pool_lines);
    g_array_unref(l->host_lines);
    g_array_unref(l->vm_lines);
    if (!ok) {
        g_clear_pointer(&l->inv, vb_inventory_free);
        return NULL;
    }
    vb_inventory_host_totals(l->inv); /* complete now: planners start from it */
    return g_steal_pointer(&l->inv);
}

static VbInventory *
load_from_doc(const VbYamlDoc *doc, GError **error)
{
    VbInventoryLoader l;
    gboolean ok;

    vb_inventory_loader_init(&l, doc);
    ok = vb_inventory_load_doc(&l, error);
    return vb_inventory_loader_finish(&l, ok);
}

VbInventory *
vb_inventory_load_data(const char *data, gsize len, const char *filename, GError **error)
{
    g_autoptr(VbYamlDoc) doc = NULL;
    VbInventory *inv = vb_inventory_load_streaming(data, len, filename, NULL);

    if (inv)
        return inv;
    doc = vb_yaml_load_data(data, len, filename, error);
    if (!doc)
        return NULL;
    return load_from_doc(doc, error);
}

VbInventory *
vb_inventory_load_file(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;

    if (!vb_yaml_read_file(path, VB_INVENTORY_MAX_BYTES, "an inventory file", &data, &len,
                           error))
        return NULL;
    return vb_inventory_load_data(data, len, path, error);
}
