/*
 * pool.c: building, copying and reading the model (see pool.h).
 *
 * Invariants kept here: ids are dense and equal to the index in their array;
 * every host is in exactly one pool's `hosts`; every guest's id is in exactly
 * one host's `vms`, the host named by `vm->host`; names are unique per kind.
 * Loaders build through the adders below, so a loaded inventory holds them too.
 * Hosts live side by side in inv->host_blocks, in id order (never freed one
 * by one: hosts are never removed), so a planner's pass over every host
 * reads memory in order instead of one scattered allocation per host.
 * Guests likewise live in inv->vm_blocks, and their names in
 * inv->name_blocks: two allocations and frees fewer per guest (200,000 of
 * each for the 10,000-host inventory the CLI loads, plans and frees).
 *
 * The per-host totals (vb_inventory_host_totals()) are a cache: NULL or equal
 * to the sums over the guests. Every mutator here drops it; the first reader
 * rebuilds it in one pass over the guests in id order (so floating-point sums
 * come out the same as a planner summing in id order itself). A planner call
 * on a 200,000-guest inventory then starts from O(hosts) figures instead of
 * O(guests) ones.
 */
#include "config.h"

#include <string.h>

#include "pool/pool.h"

const char *const vb_host_state_names[] = { "up", "maintenance", "down", NULL };
const char *const vb_vm_state_names[] = { "running", "paused", "shutoff", NULL };

const char *const vb_cpu_mode_names[] = { "custom", "host-model", "host-passthrough", "maximum",
                                           NULL };

G_STATIC_ASSERT(G_N_ELEMENTS(vb_host_state_names) == VB_HOST_STATE_LAST + 1);
G_STATIC_ASSERT(G_N_ELEMENTS(vb_cpu_mode_names) == VB_CPU_MODE_LAST + 1);
G_STATIC_ASSERT(G_N_ELEMENTS(vb_vm_state_names) == VB_VM_STATE_LAST + 1);

const char *
vb_host_state_to_string(VbHostState state)
{
    g_return_val_if_fail(state < VB_HOST_STATE_LAST, "unknown");
    return vb_host_state_names[state];
}

gboolean
vb_host_state_from_string(const char *name, VbHostState *ret_state)
{
    for (guint i = 0; i < VB_HOST_STATE_LAST; i++) {
        if (g_str_equal(name, vb_host_state_names[i])) {
            *ret_state = i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *
vb_vm_state_to_string(VbVmState state)
{
    g_return_val_if_fail(state < VB_VM_STATE_LAST, "unknown");
    return vb_vm_state_names[state];
}

gboolean
vb_vm_state_from_string(const char *name, VbVmState *ret_state)
{
    for (guint i = 0; i < VB_VM_STATE_LAST; i++) {
        if (g_str_equal(name, vb_vm_state_names[i])) {
            *ret_state = i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *
vb_cpu_mode_to_string(VbCpuMode mode)
{
    g_return_val_if_fail(mode < VB_CPU_MODE_LAST, "unknown");
    return vb_cpu_mode_names[mode];
}

/* ------------------------------------------------------------ destructors */

static void
pool_free(gpointer data)
{
    VbPool *pool = data;

    g_free(pool->name);
    if (pool->hosts)
        g_array_unref(pool->hosts);
    g_free(pool);
}

static void
host_free(gpointer data)
{
    VbHost *host = data;

    g_free(host->name);
    g_free(host->uri);
    g_free(host->hypervisor);
    g_free(host->cpu_vendor);
    g_free(host->cpu_model);
    g_free(host->state_reason);
    vb_bits_clear(&host->cpu_features);
    vb_bits_clear(&host->labels);
    if (host->vms)
        g_array_unref(host->vms);
    /* The VbHost itself is in one of inv->host_blocks. */
}

static void
vm_free(gpointer data)
{
    VbVm *vm = data;

    /* The VbVm and its name are in inv->vm_blocks and inv->name_blocks. */
    for (guint i = 0; i < vm->n_disks; i++)
        g_free(vm->disks[i].name);
    g_free(vm->disks);
    g_strfreev(vm->devices);
    g_strfreev(vm->tags);
    vb_bits_clear(&vm->cpu_features);
    vb_bits_clear(&vm->labels);
    g_free(vm->cpu_model);
}

VbInventory *
vb_inventory_new(void)
{
    VbInventory *inv = g_new0(VbInventory, 1);

    inv->pools = g_ptr_array_new_with_free_func(pool_free);
    inv->hosts = g_ptr_array_new_with_free_func(host_free);
    inv->host_blocks = g_ptr_array_new_with_free_func(g_free);
    inv->vm_blocks = g_ptr_array_new_with_free_func(g_free);
    inv->name_blocks = g_ptr_array_new_with_free_func(g_free);
    inv->vms = g_ptr_array_new_with_free_func(vm_free);
    inv->pool_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    inv->host_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    inv->vm_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    inv->features = vb_strtab_new();
    inv->labels = vb_strtab_new();
    return inv;
}

void
vb_inventory_free(VbInventory *inv)
{
    if (!inv)
        return;
    /* Tables borrow names from the objects: drop them first. */
    g_clear_pointer(&inv->pool_by_name, g_hash_table_unref);
    g_clear_pointer(&inv->host_by_name, g_hash_table_unref);
    g_clear_pointer(&inv->vm_by_name, g_hash_table_unref);
    g_clear_pointer(&inv->vms, g_ptr_array_unref);
    g_clear_pointer(&inv->vm_blocks, g_ptr_array_unref);
    g_clear_pointer(&inv->name_blocks, g_ptr_array_unref);
    g_clear_pointer(&inv->hosts, g_ptr_array_unref);
    g_clear_pointer(&inv->host_blocks, g_ptr_array_unref);
    g_clear_pointer(&inv->pools, g_ptr_array_unref);
    g_clear_pointer(&inv->features, vb_strtab_free);
    g_clear_pointer(&inv->labels, vb_strtab_free);
    g_clear_pointer(&inv->totals, g_free);
    g_clear_pointer(&inv->costs.pair_bandwidth, g_hash_table_unref);
    g_free(inv);
}

/* ----------------------------------------------------------------- adders */

static gboolean
check_new_name(GHashTable *table, const char *kind, const char *name, GError **error)
{
    if (!name || !*name) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "a %s needs a name", kind);
        return FALSE;
    }
    if (g_hash_table_contains(table, name)) {
        g_autofree char *shown = vb_text_quote(name);

        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s '%s' is defined twice",
                    kind, shown);
        return FALSE;
    }
    return TRUE;
}

VbPool *
vb_inventory_add_pool(VbInventory *inv, const char *name, GError **error)
{
    VbPool *pool;

    if (!check_new_name(inv->pool_by_name, "pool", name, error))
        return NULL;
    pool = g_new0(VbPool, 1);
    pool->name = g_strdup(name);
    pool->id = inv->pools->len;
    pool->hosts = g_array_new(FALSE, FALSE, sizeof(guint));
    g_ptr_array_add(inv->pools, pool);
    g_hash_table_insert(inv->pool_by_name, pool->name, pool);
    return pool;
}

/* A zeroed VbHost beside the previous one. Blocks grow with the inventory
 * (16 hosts, then as many as there are, up to 4,096), so a small inventory
 * wastes little and a large one has its hosts in a few runs. Never fails. */
static VbHost *
host_slot(VbInventory *inv)
{
    if (inv->host_left == 0) {
        guint size = CLAMP(inv->hosts->len, 16, 4096);

        inv->host_next = g_new0(VbHost, size);
        inv->host_left = size;
        g_ptr_array_add(inv->host_blocks, inv->host_next);
    }
    inv->host_left--;
    return inv->host_next++;
}

/* A zeroed VbVm beside the previous one, as host_slot() (guests are never
 * removed either). Never fails. */
static VbVm *
vm_slot(VbInventory *inv)
{
    if (inv->vm_left == 0) {
        guint size = CLAMP(inv->vms->len, 16, 4096);

        inv->vm_next = g_new0(VbVm, size);
        inv->vm_left = size;
        g_ptr_array_add(inv->vm_blocks, inv->vm_next);
    }
    inv->vm_left--;
    return inv->vm_next++;
}

/* A copy of a guest's @name in inv->name_blocks (64 KiB blocks, or one of
 * the name's size), freed with the inventory. Never fails. */
static char *
name_copy(VbInventory *inv, const char *name)
{
    gsize len = strlen(name) + 1;
    char *copy;

    if (len > inv->name_left) {
        inv->name_left = MAX(len, 65536);
        inv->name_next = g_malloc(inv->name_left);
        g_ptr_array_add(inv->name_blocks, inv->name_next);
    }
    copy = memcpy(inv->name_next, name, len);
    inv->name_next += len;
    inv->name_left -= len;
    return copy;
}

VbHost *
vb_inventory_add_host(VbInventory *inv, VbPool *pool, const char *name, GError **error)
{
    VbHost *host;

    if (!check_new_name(inv->host_by_name, "host", name, error))
        return NULL;
    host = host_slot(inv);
    host->name = g_strdup(name);
    host->id = inv->hosts->len;
    host->pool = pool->id;
    host->state = VB_HOST_STATE_UP;
    host->vms = g_array_new(FALSE, FALSE, sizeof(guint));
    vb_inventory_changed(inv);
    g_ptr_array_add(inv->hosts, host);
    g_hash_table_insert(inv->host_by_name, host->name, host);
    g_array_append_val(pool->hosts, host->id);
    return host;
}

VbVm *
vb_inventory_add_vm(VbInventory *inv, VbHost *host, const char *name, GError **error)
{
    VbVm *vm;

    if (!check_new_name(inv->vm_by_name, "guest", name, error))
        return NULL;
    vm = vm_slot(inv);
    vm->name = name_copy(inv, name);
    vm->id = inv->vms->len;
    vm->host = host->id;
    vm->state = VB_VM_STATE_RUNNING;
    vm->vcpus = 1;
    vb_inventory_changed(inv);
    g_ptr_array_add(inv->vms, vm);
    g_hash_table_insert(inv->vm_by_name, vm->name, vm);
    g_array_append_val(host->vms, vm->id);
    return vm;
}

void
vb_host_add_feature(VbInventory *inv, VbHost *host, const char *feature)
{
    vb_bits_set(&host->cpu_features, vb_strtab_intern(inv->features, feature));
}

void
vb_host_add_label(VbInventory *inv, VbHost *host, const char *label)
{
    vb_bits_set(&host->labels, vb_strtab_intern(inv->labels, label));
}

void
vb_vm_add_feature(VbInventory *inv, VbVm *vm, const char *feature)
{
    vb_bits_set(&vm->cpu_features, vb_strtab_intern(inv->features, feature));
}

void
vb_vm_add_label(VbInventory *inv, VbVm *vm, const char *label)
{
    vb_bits_set(&vm->labels, vb_strtab_intern(inv->labels, label));
}

void
vb_vm_add_disk(VbVm *vm, const char *name, double size_gib, gboolean shared)
{
    vm->disks = g_renew(VbDisk, vm->disks, vm->n_disks + 1);
    vm->disks[vm->n_disks].name = g_strdup(name);
    vm->disks[vm->n_disks].size_gib = size_gib;
    vm->disks[vm->n_disks].shared = shared;
    vm->n_disks++;
}

void
vb_inventory_move_vm(VbInventory *inv, VbVm *vm, VbHost *host)
{
    VbHost *from = vb_inventory_host(inv, vm->host);

    vb_inventory_changed(inv);
    for (guint i = 0; i < from->vms->len; i++) {
        if (g_array_index(from->vms, guint, i) == vm->id) {
            g_array_remove_index(from->vms, i);
            break;
        }
    }
    vm->host = host->id;
    g_array_append_val(host->vms, vm->id);
}

/* ------------------------------------------------------------------- copy */

static void
copy_strtab(VbStrtab *dst, const VbStrtab *src)
{
    for (guint i = 0; i < vb_strtab_size(src); i++)
        vb_strtab_intern(dst, vb_strtab_name(src, i));
}

static void
copy_host(VbHost *dst, const VbHost *src)
{
    dst->uri = g_strdup(src->uri);
    dst->hypervisor = g_strdup(src->hypervisor);
    dst->cpu_vendor = g_strdup(src->cpu_vendor);
    dst->cpu_model = g_strdup(src->cpu_model);
    dst->cpu_cores = src->cpu_cores;
    vb_bits_copy(&dst->cpu_features, &src->cpu_features);
    dst->memory_mib = src->memory_mib;
    dst->storage_total_gib = src->storage_total_gib;
    dst->storage_free_gib = src->storage_free_gib;
    dst->state = src->state;
    dst->state_reason = g_strdup(src->state_reason);
    vb_bits_copy(&dst->labels, &src->labels);
    dst->cpu_usage = src->cpu_usage;
    dst->cpu_stddev = src->cpu_stddev;
    dst->memory_used_mib = src->memory_used_mib;
    dst->migration_bandwidth_mib_s = src->migration_bandwidth_mib_s;
}

static void
copy_vm(VbVm *dst, const VbVm *src)
{
    dst->state = src->state;
    dst->vcpus = src->vcpus;
    dst->memory_mib = src->memory_mib;
    dst->cpu_usage = src->cpu_usage;
    dst->dirty_rate_mib_s = src->dirty_rate_mib_s;
    vb_bits_copy(&dst->cpu_features, &src->cpu_features);
    for (guint i = 0; i < src->n_disks; i++)
        vb_vm_add_disk(dst, src->disks[i].name, src->disks[i].size_gib, src->disks[i].shared);
    dst->devices = g_strdupv(src->devices);
    dst->tags = g_strdupv(src->tags);
    vb_bits_copy(&dst->labels, &src->labels);
    dst->last_migrated = src->last_migrated;
    dst->moves_last_day = src->moves_last_day;
    dst->cpu_mode = src->cpu_mode;
    dst->cpu_model = g_strdup(src->cpu_model);
    dst->on_two_hosts = src->on_two_hosts;
}

static void
copy_costs(VbInventory *dst, const VbInventory *src)
{
    GHashTableIter it;
    gpointer key, value;

    dst->costs.setup_measured = src->costs.setup_measured;
    dst->costs.setup_seconds = src->costs.setup_seconds;
    if (!src->costs.pair_bandwidth)
        return;
    g_hash_table_iter_init(&it, src->costs.pair_bandwidth);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        gint64 k = *(const gint64 *) key;

        vb_inventory_set_pair_bandwidth(dst, (guint) (k >> 32), (guint) (k & 0xffffffff),
                                        *(const double *) value);
    }
}

VbInventory *
vb_inventory_copy(const VbInventory *inv)
{
    VbInventory *copy = vb_inventory_new();

    copy_strtab(copy->features, inv->features);
    copy_strtab(copy->labels, inv->labels);
    for (guint p = 0; p < inv->pools->len; p++) {
        const VbPool *pool = vb_inventory_pool(inv, p);
        VbPool *np = vb_inventory_add_pool(copy, pool->name, NULL);

        np->shared_storage = pool->shared_storage;
    }
    /* Hosts and guests in id order, so that ids stay the same. */
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        VbHost *nh = vb_inventory_add_host(copy, vb_inventory_pool(copy, host->pool),
                                           host->name, NULL);

        copy_host(nh, host);
    }
    for (guint v = 0; v < inv->vms->len; v++) {
        const VbVm *vm = vb_inventory_vm(inv, v);
        VbVm *nv = vb_inventory_add_vm(copy, vb_inventory_host(copy, vm->host), vm->name, NULL);

        copy_vm(nv, vm);
    }
    /* Keep each host's guest order as in the original. */
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        VbHost *nh = vb_inventory_host(copy, h);

        g_array_set_size(nh->vms, 0);
        g_array_append_vals(nh->vms, host->vms->data, host->vms->len);
    }
    copy_costs(copy, inv);
    vb_inventory_host_totals(copy);
    return copy;
}

/* ------------------------------------------------------- measured costs */

static gint64
pair_key(guint from, guint to)
{
    return ((gint64) from << 32) | (gint64) to;
}

void
vb_inventory_set_pair_bandwidth(VbInventory *inv, guint from, guint to, double mib_s)
{
    gint64 key = pair_key(from, to);

    g_return_if_fail(inv != NULL);
    if (mib_s <= 0) {
        if (inv->costs.pair_bandwidth)
            g_hash_table_remove(inv->costs.pair_bandwidth, &key);
        return;
    }
    if (!inv->costs.pair_bandwidth)
        inv->costs.pair_bandwidth =
            g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    g_hash_table_replace(inv->costs.pair_bandwidth, g_memdup2(&key, sizeof(key)),
                         g_memdup2(&mib_s, sizeof(mib_s)));
}

double
vb_inventory_pair_bandwidth(const VbInventory *inv, guint from, guint to)
{
    gint64 key = pair_key(from, to);
    const double *mib_s;

    if (!inv->costs.pair_bandwidth)
        return 0.0;
    mib_s = g_hash_table_lookup(inv->costs.pair_bandwidth, &key);
    return mib_s ? *mib_s : 0.0;
}

/* ---------------------------------------------------------------- reading */

VbPool *
vb_inventory_get_pool(const VbInventory *inv, const char *name)
{
    return g_hash_table_lookup(inv->pool_by_name, name);
}

VbHost *
vb_inventory_get_host(const VbInventory *inv, const char *name)
{
    return g_hash_table_lookup(inv->host_by_name, name);
}

VbVm *
vb_inventory_get_vm(const VbInventory *inv, const char *name)
{
    return g_hash_table_lookup(inv->vm_by_name, name);
}

double
vb_vm_disk_gib(const VbVm *vm)
{
    double total = 0;

    for (guint i = 0; i < vm->n_disks; i++)
        total += vm->disks[i].size_gib;
    return total;
}

double
vb_vm_local_disk_gib(const VbVm *vm)
{
    double total = 0;

    for (guint i = 0; i < vm->n_disks; i++) {
        if (!vm->disks[i].shared)
            total += vm->disks[i].size_gib;
    }
    return total;
}

gboolean
vb_vm_has_tag(const VbVm *vm, const char *tag)
{
    return vm->tags && g_strv_contains((const char *const *) vm->tags, tag);
}

gboolean
vb_vm_is_pinned(const VbVm *vm, char **ret_why)
{
    if (vm->devices && vm->devices[0]) {
        if (ret_why)
            *ret_why = g_strdup_printf("has pass-through device %s", vm->devices[0]);
        return TRUE;
    }
    if (vb_vm_has_tag(vm, VB_TAG_NO_MIGRATE)) {
        if (ret_why)
            *ret_why = g_strdup("is tagged no-migrate");
        return TRUE;
    }
    return FALSE;
}

guint64
vb_host_allocated_memory_mib(const VbInventory *inv, const VbHost *host)
{
    guint64 total = 0;

    for (guint i = 0; i < host->vms->len; i++) {
        const VbVm *vm = vb_inventory_vm(inv, g_array_index(host->vms, guint, i));

        if (vm->state != VB_VM_STATE_SHUTOFF)
            total += vm->memory_mib;
    }
    return total;
}

guint
vb_host_allocated_vcpus(const VbInventory *inv, const VbHost *host)
{
    guint total = 0;

    for (guint i = 0; i < host->vms->len; i++) {
        const VbVm *vm = vb_inventory_vm(inv, g_array_index(host->vms, guint, i));

        if (vm->state != VB_VM_STATE_SHUTOFF)
            total += vm->vcpus;
    }
    return total;
}

/* ------------------------------------------------------------ host totals */

void
vb_inventory_changed(VbInventory *inv)
{
    g_clear_pointer(&inv->totals, g_free);
}

const VbHostTotals *
vb_inventory_host_totals(const VbInventory *inv)
{
    VbHostTotals *totals;

    if (inv->totals)
        return inv->totals;
    totals = g_new0(VbHostTotals, MAX(inv->hosts->len, 1));
    for (guint v = 0; v < inv->vms->len; v++) {
        const VbVm *vm = vb_inventory_vm(inv, v);
        VbHostTotals *t = &totals[vm->host];

        /* Same expressions as vb_vm_disk_gib() and vb_vm_local_disk_gib(),
         * so that each guest's figure is bit for bit what they return. */
        t->disk_gib += vb_vm_disk_gib(vm);
        t->local_disk_gib += vb_vm_local_disk_gib(vm);
        if (vm->state == VB_VM_STATE_SHUTOFF)
            continue;
        t->memory_mib += vm->memory_mib;
        t->vcpus += vm->vcpus;
    }
    /* A cache filled on first read: logically const. */
    ((VbInventory *) inv)->totals = totals;
    return totals;
}
