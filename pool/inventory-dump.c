/*
 * inventory-dump.c: writing a VbInventory in the inventory file format
 * (docs/inventory.md), the inverse of inventory.c.
 *
 * Output shape: block style for the two top-level lists and for pools, one
 * flow-style mapping per host and per guest, so that a 200,000-guest pool is
 * 200,000 lines that diff well. Pools are written in id order with their hosts
 * in pool order; guests in id order.
 *
 * Invariants: loading the output gives an equal inventory, and dumping that
 * again gives the same text. For the second half, sets (features, labels) are
 * written sorted by name rather than by interning id, since ids depend on the
 * order names were first seen; numbers are written with the fewest digits
 * that read back to the same double. Optional keys holding their default
 * (no uri, no reason, empty lists, never migrated) are left out.
 */
#include "config.h"

#include <string.h>

#include "pool/pool.h"

/* Dump state: the output and, per string table, each id's rank by name. */
typedef struct {
    GString *out;
    guint *feature_rank;  /* rank of feature id i among all names, sorted */
    guint *label_rank;    /* same for labels */
    const VbInventory *inv;
} Dumper;

static gint
compare_names(gconstpointer a, gconstpointer b, gpointer tab)
{
    return strcmp(vb_strtab_name(tab, *(const guint *) a), vb_strtab_name(tab, *(const guint *) b));
}

/* rank[id] = position of the id's name in name order (transfer full). */
static guint *
name_ranks(const VbStrtab *tab)
{
    guint n = vb_strtab_size(tab);
    g_autofree guint *order = g_new(guint, n + 1);
    guint *rank = g_new(guint, n + 1);

    for (guint i = 0; i < n; i++)
        order[i] = i;
    g_qsort_with_data(order, n, sizeof(guint), compare_names, (gpointer) tab);
    for (guint i = 0; i < n; i++)
        rank[order[i]] = i;
    return rank;
}

/* TRUE when @s can be written as a plain scalar and read back as the same
 * text by any YAML reader: an identifier-like word that is not a YAML
 * keyword (true, no, null, ...) and does not look like a number. */
static gboolean
is_plain_safe(const char *s)
{
    static const char *const keywords[] = {
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", NULL
    };
    g_autofree char *lower = NULL;

    if (!g_ascii_isalpha(s[0]))
        return FALSE;
    for (const char *p = s; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.' && *p != '/')
            return FALSE;
    }
    lower = g_ascii_strdown(s, -1);
    return !g_strv_contains(keywords, lower) && !g_str_has_prefix(lower, ".inf") &&
           !g_str_equal(lower, ".nan");
}

static void
put_str(GString *out, const char *s)
{
    if (is_plain_safe(s)) {
        g_string_append(out, s);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = s; *p; p++) {
        guchar c = (guchar) *p;

        if (c == '"' || c == '\\')
            g_string_append_printf(out, "\\%c", c);
        else if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char) c);
    }
    g_string_append_c(out, '"');
}

/* Shortest of %.15g/%.16g/%.17g that reads back as @value. */
static void
put_double(GString *out, double value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    for (const char *const *f = (const char *const[]) { "%.15g", "%.16g", "%.17g", NULL };
         *f; f++) {
        g_ascii_formatd(buf, sizeof(buf), *f, value);
        if (g_ascii_strtod(buf, NULL) == value || !f[1])
            break;
    }
    g_string_append(out, buf);
}

static void
put_key_str(GString *out, const char *key, const char *value)
{
    g_string_append_printf(out, ", %s: ", key);
    put_str(out, value);
}

static void
put_key_double(GString *out, const char *key, double value)
{
    g_string_append_printf(out, ", %s: ", key);
    put_double(out, value);
}

static void
put_key_u64(GString *out, const char *key, guint64 value)
{
    g_string_append_printf(out, ", %s: %" G_GUINT64_FORMAT, key, value);
}

static gint
compare_by_rank(gconstpointer a, gconstpointer b, gpointer rank)
{
    guint x = ((const guint *) rank)[*(const guint *) a];
    guint y = ((const guint *) rank)[*(const guint *) b];

    return (x > y) - (x < y);
}

/* Writes "[a, b]" with the set's names sorted by name. */
static void
put_set(GString *out, const VbBits *bits, const VbStrtab *tab, const guint *rank)
{
    guint n = vb_bits_count(bits);
    g_autofree guint *ids = g_new(guint, n + 1);
    guint i = 0;

    for (gint b = vb_bits_next(bits, 0); b >= 0; b = vb_bits_next(bits, b + 1))
        ids[i++] = (guint) b;
    g_qsort_with_data(ids, n, sizeof(guint), compare_by_rank, (gpointer) rank);
    g_string_append_c(out, '[');
    for (i = 0; i < n; i++) {
        if (i > 0)
            g_string_append(out, ", ");
        put_str(out, vb_strtab_name(tab, ids[i]));
    }
    g_string_append_c(out, ']');
}

static void
put_strv(GString *out, char **v)
{
    g_string_append_c(out, '[');
    for (guint i = 0; v && v[i]; i++) {
        if (i > 0)
            g_string_append(out, ", ");
        put_str(out, v[i]);
    }
    g_string_append_c(out, ']');
}

static void
dump_host(Dumper *d, const VbHost *host)
{
    GString *out = d->out;

    g_string_append(out, "      - {name: ");
    put_str(out, host->name);
    if (host->uri)
        put_key_str(out, "uri", host->uri);
    put_key_str(out, "hypervisor", host->hypervisor ? host->hypervisor : "kvm");
    g_string_append(out, ", cpu: {vendor: ");
    put_str(out, host->cpu_vendor ? host->cpu_vendor : "unknown");
    if (host->cpu_model)
        put_key_str(out, "model", host->cpu_model);
    put_key_u64(out, "cores", host->cpu_cores);
    if (vb_bits_count(&host->cpu_features) > 0) {
        g_string_append(out, ", features: ");
        put_set(out, &host->cpu_features, d->inv->features, d->feature_rank);
    }
    g_string_append_c(out, '}');
    put_key_u64(out, "memory_mib", host->memory_mib);
    g_string_append(out, ", storage: {total_gib: ");
    put_double(out, host->storage_total_gib);
    put_key_double(out, "free_gib", host->storage_free_gib);
    g_string_append_c(out, '}');
    put_key_str(out, "state", vb_host_state_to_string(host->state));
    if (host->state_reason)
        put_key_str(out, "state_reason", host->state_reason);
    if (vb_bits_count(&host->labels) > 0) {
        g_string_append(out, ", labels: ");
        put_set(out, &host->labels, d->inv->labels, d->label_rank);
    }
    put_key_double(out, "cpu_usage", host->cpu_usage);
    if (host->cpu_stddev > 0)
        put_key_double(out, "cpu_stddev", host->cpu_stddev);
    put_key_u64(out, "memory_used_mib", host->memory_used_mib);
    put_key_double(out, "migration_bandwidth_mib_s", host->migration_bandwidth_mib_s);
    g_string_append(out, "}\n");
}

/* `shared` is written only where it differs from the pool's shared_storage,
 * which is what the loader assumes when it is left out. */
static void
dump_disks(Dumper *d, const VbVm *vm)
{
    GString *out = d->out;
    const VbHost *host = vb_inventory_host(d->inv, vm->host);
    gboolean pool_shared = vb_inventory_pool(d->inv, host->pool)->shared_storage;

    g_string_append(out, ", disks: [");
    for (guint i = 0; i < vm->n_disks; i++) {
        g_string_append(out, i > 0 ? ", {name: " : "{name: ");
        put_str(out, vm->disks[i].name);
        put_key_double(out, "size_gib", vm->disks[i].size_gib);
        if (!vm->disks[i].shared != !pool_shared)
            g_string_append_printf(out, ", shared: %s", vm->disks[i].shared ? "true" : "false");
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

/* ", cpu: {mode: M, model: N, features: [...]}", keys at their default left out. */
static void
dump_vm_cpu(Dumper *d, const VbVm *vm)
{
    const char *sep = "";

    g_string_append(d->out, ", cpu: {");
    if (vm->cpu_mode != VB_CPU_MODE_CUSTOM) {
        g_string_append(d->out, "mode: ");
        put_str(d->out, vb_cpu_mode_to_string(vm->cpu_mode));
        sep = ", ";
    }
    if (vm->cpu_model) {
        g_string_append_printf(d->out, "%smodel: ", sep);
        put_str(d->out, vm->cpu_model);
        sep = ", ";
    }
    if (vb_bits_count(&vm->cpu_features) > 0) {
        g_string_append_printf(d->out, "%sfeatures: ", sep);
        put_set(d->out, &vm->cpu_features, d->inv->features, d->feature_rank);
    }
    g_string_append_c(d->out, '}');
}

static void
dump_vm(Dumper *d, const VbVm *vm)
{
    GString *out = d->out;

    g_string_append(out, "  - {name: ");
    put_str(out, vm->name);
    put_key_str(out, "host", vb_inventory_host(d->inv, vm->host)->name);
    if (vm->state != VB_VM_STATE_RUNNING)
        put_key_str(out, "state", vb_vm_state_to_string(vm->state));
    put_key_u64(out, "vcpus", vm->vcpus);
    put_key_u64(out, "memory_mib", vm->memory_mib);
    if (vm->cpu_usage != 0)
        put_key_double(out, "cpu_usage", vm->cpu_usage);
    if (vm->dirty_rate_mib_s != 0)
        put_key_double(out, "dirty_rate_mib_s", vm->dirty_rate_mib_s);
    if (vm->cpu_mode != VB_CPU_MODE_CUSTOM || vm->cpu_model ||
        vb_bits_count(&vm->cpu_features) > 0)
        dump_vm_cpu(d, vm);
    if (vm->n_disks > 0)
        dump_disks(d, vm);
    if (vm->devices && vm->devices[0]) {
        g_string_append(out, ", devices: ");
        put_strv(out, vm->devices);
    }
    if (vm->tags && vm->tags[0]) {
        g_string_append(out, ", tags: ");
        put_strv(out, vm->tags);
    }
    if (vb_bits_count(&vm->labels) > 0) {
        g_string_append(out, ", labels: ");
        put_set(out, &vm->labels, d->inv->labels, d->label_rank);
    }
    if (vm->last_migrated > 0)
        put_key_u64(out, "last_migrated", (guint64) vm->last_migrated);
    if (vm->moves_last_day > 0)
        put_key_u64(out, "moves_last_day", vm->moves_last_day);
    if (vm->on_two_hosts)
        g_string_append(out, ", on_two_hosts: true");
    g_string_append(out, "}\n");
}

static void
dump_pool(Dumper *d, const VbPool *pool)
{
    g_string_append(d->out, "  - name: ");
    put_str(d->out, pool->name);
    g_string_append_printf(d->out, "\n    shared_storage: %s\n",
                           pool->shared_storage ? "true" : "false");
    if (pool->hosts->len == 0) {
        g_string_append(d->out, "    hosts: []\n");
        return;
    }
    g_string_append(d->out, "    hosts:\n");
    for (guint i = 0; i < pool->hosts->len; i++)
        dump_host(d, vb_inventory_host(d->inv, g_array_index(pool->hosts, guint, i)));
}

char *
vb_inventory_to_yaml(const VbInventory *inv)
{
    g_autofree guint *feature_rank = name_ranks(inv->features);
    g_autofree guint *label_rank = name_ranks(inv->labels);
    Dumper d = {
        .out = g_string_sized_new(4096 + 256 * (gsize) inv->vms->len),
        .feature_rank = feature_rank,
        .label_rank = label_rank,
        .inv = inv,
    };

    g_string_append(d.out, "# virt-balancer inventory (format: docs/inventory.md)\n");
    g_string_append(d.out, inv->pools->len ? "pools:\n" : "pools: []\n");
    for (guint p = 0; p < inv->pools->len; p++)
        dump_pool(&d, vb_inventory_pool(inv, p));
    g_string_append(d.out, inv->vms->len ? "vms:\n" : "vms: []\n");
    for (guint v = 0; v < inv->vms->len; v++)
        dump_vm(&d, vb_inventory_vm(inv, v));
    return g_string_free(d.out, FALSE);
}
