/*
 * generate.c: deterministic pseudo-random pools for property tests, the
 * quality oracle and the benchmarks (vb_inventory_generate in pool.h).
 *
 * Determinism: the only source of randomness is a splitmix64 stream seeded
 * from params->seed, drawn in a fixed order; no clock, no rand(), no hash
 * table iteration. Same params, same inventory, on every machine.
 *
 * Shape: hosts are spread evenly over the pools, pool by pool (host ids are
 * contiguous per pool, as after loading a file). Each pool has a CPU vendor
 * (some pools mix both) and shared storage or not. Hosts come in five size
 * classes; some run older CPUs lacking the newest features, a few run plain
 * qemu, a few are in maintenance (keeping their guests) or down (empty).
 * Guest memory sizes follow a skewed distribution scaled so that the pool's
 * running guests take `memory_fill` of its usable memory; each guest lands on
 * a host drawn with probability proportional to the host's memory times
 * `hot_weight` for hot hosts, so hot hosts fill up first.
 *
 * Validity invariants (what the tests check): every running or paused guest
 * fits its host's memory (sum within memory_mib minus the host's own
 * overhead); a guest's CPU features are a subset of its host's; local disks
 * (pools without shared storage) fit the host's storage, whose free space
 * accounts for them; down hosts have no guests; host load figures agree with
 * the guests on it. A guest for which no host has room is created shut off.
 *
 * Workload: 10,000 hosts and 200,000 guests in about a second: host choice is
 * a binary search over cumulative weights, features and labels are interned
 * once and set as bits.
 */
#include "config.h"

#include <math.h>

#include "pool/pool.h"

/* ------------------------------------------------------------------ PRNG */

/* Index drawn from @weights (n entries, positive sum). */
static guint
rng_pick(VbRng *r, const double *weights, guint n)
{
    double total = 0, x;

    for (guint i = 0; i < n; i++)
        total += weights[i];
    x = vb_rng_double(r) * total;
    for (guint i = 0; i < n; i++) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return n - 1;
}

/* ------------------------------------------------------------ the tables */

#define HOST_OVERHEAD_MIB 4096 /* memory the host keeps for itself */

static const guint class_cores[] = { 16, 32, 48, 64, 128 };
static const guint64 class_memory_gib[] = { 64, 128, 256, 384, 1024 };
static const double class_weight[] = { 0.15, 0.30, 0.25, 0.20, 0.10 };
static const double class_bandwidth[] = { 1150, 1150, 2800, 2800, 5600 };

/* Guest memory multipliers of the mean size, and how often each occurs. */
static const double size_factor[] = { 0.125, 0.25, 0.5, 1, 2, 4, 8 };
static const double size_weight[] = { 0.15, 0.20, 0.25, 0.20, 0.12, 0.06, 0.02 };

typedef struct {
    const char *vendor;
    const char *model;          /* current CPU */
    const char *old_model;      /* older CPU, lacking `new_features` */
    const char *base[6];        /* every host of this vendor */
    const char *new_features[2];
} VendorInfo;

static const VendorInfo vendors[] = {
    { "Intel", "Icelake-Server", "Skylake-Server",
      { "sse4_2", "aes", "avx", "avx2", "vmx", "pku" }, { "avx512f", "avx512vl" } },
    { "AMD", "EPYC-Milan", "EPYC-Rome",
      { "sse4_2", "aes", "avx", "avx2", "svm", "sha-ni" }, { "vaes", "vpclmulqdq" } },
};

static const char *const host_label_names[] = { "ssd", "nvme", "gpu" };
static const double host_label_chance[] = { 0.6, 0.2, 0.05 };
static const char *const vm_label_names[] = { "web", "db", "batch", "cache" };

/* Generator state. */
typedef struct {
    const VbGenerateParams *p;
    VbRng rng;
    VbInventory *inv;
    guint vendor_feature[G_N_ELEMENTS(vendors)][8]; /* feature ids: base then new */
    guint host_label[G_N_ELEMENTS(host_label_names)];
    guint vm_label[G_N_ELEMENTS(vm_label_names)];
    guint64 *room_mib;      /* per host: memory still free for running guests */
    double *cum_weight;     /* cumulative draw weight over `eligible` */
    guint *eligible;        /* host ids that take guests (up or maintenance) */
    guint n_eligible;
    gboolean *hot;          /* per host */
    gboolean *old_cpu;      /* per host */
    double *vcpu_load;      /* per host: sum of vcpus * usage of running guests */
} Gen;

void
vb_generate_params_init(VbGenerateParams *params)
{
    *params = (VbGenerateParams) {
        .n_pools = 3,
        .n_hosts = 12,
        .n_vms = 240,
        .seed = 1,
        .memory_fill = 0.55,
        .hot_fraction = 0.1,
        .hot_weight = 4,
        .local_pool_fraction = 0.25,
        .mixed_vendor_fraction = 0.2,
        .qemu_fraction = 0.02,
        .old_cpu_fraction = 0.15,
        .maintenance_fraction = 0.02,
        .down_fraction = 0.01,
        .no_migrate_fraction = 0.02,
        .passthrough_fraction = 0.01,
        .shutoff_fraction = 0.04,
    };
}

static void
intern_names(Gen *g)
{
    for (guint v = 0; v < G_N_ELEMENTS(vendors); v++) {
        for (guint i = 0; i < 6; i++)
            g->vendor_feature[v][i] = vb_strtab_intern(g->inv->features, vendors[v].base[i]);
        for (guint i = 0; i < 2; i++)
            g->vendor_feature[v][6 + i] =
                vb_strtab_intern(g->inv->features, vendors[v].new_features[i]);
    }
    for (guint i = 0; i < G_N_ELEMENTS(host_label_names); i++)
        g->host_label[i] = vb_strtab_intern(g->inv->labels, host_label_names[i]);
    for (guint i = 0; i < G_N_ELEMENTS(vm_label_names); i++)
        g->vm_label[i] = vb_strtab_intern(g->inv->labels, vm_label_names[i]);
}

/* ----------------------------------------------------------------- hosts */

static void
make_host_state(Gen *g, VbHost *host)
{
    double x = vb_rng_double(&g->rng);

    if (x < g->p->down_fraction) {
        host->state = VB_HOST_STATE_DOWN;
        host->state_reason = g_strdup("cannot connect: host unreachable (generated)");
    } else if (x < g->p->down_fraction + g->p->maintenance_fraction) {
        host->state = VB_HOST_STATE_MAINTENANCE;
        host->state_reason = g_strdup("planned maintenance (generated)");
    }
}

static void
make_host(Gen *g, VbPool *pool, guint vendor, gboolean mixed, guint index)
{
    char name[32];
    VbHost *host;
    guint cls = rng_pick(&g->rng, class_weight, G_N_ELEMENTS(class_weight));
    guint v = mixed ? vb_rng_below(&g->rng, G_N_ELEMENTS(vendors)) : vendor;
    gboolean old = vb_rng_chance(&g->rng, g->p->old_cpu_fraction);

    g_snprintf(name, sizeof(name), "kvm%05u", index);
    host = vb_inventory_add_host(g->inv, pool, name, NULL);
    host->hypervisor = g_strdup(vb_rng_chance(&g->rng, g->p->qemu_fraction) ? "qemu" : "kvm");
    host->cpu_vendor = g_strdup(vendors[v].vendor);
    host->cpu_model = g_strdup(old ? vendors[v].old_model : vendors[v].model);
    host->cpu_cores = class_cores[cls];
    for (guint i = 0; i < (old ? 6u : 8u); i++)
        vb_bits_set(&host->cpu_features, g->vendor_feature[v][i]);
    host->memory_mib = class_memory_gib[cls] * 1024;
    /* Local pools keep guest disks on the host: give them room for it. */
    host->storage_total_gib = pool->shared_storage ? 200 + 100 * vb_rng_below(&g->rng, 4)
                                                   : 2000 + 1000 * vb_rng_below(&g->rng, 7);
    host->storage_free_gib = host->storage_total_gib;
    for (guint i = 0; i < G_N_ELEMENTS(host_label_names); i++) {
        if (vb_rng_chance(&g->rng, host_label_chance[i]))
            vb_bits_set(&host->labels, g->host_label[i]);
    }
    host->migration_bandwidth_mib_s = class_bandwidth[cls];
    make_host_state(g, host);
    g->old_cpu[host->id] = old;
    g->hot[host->id] = vb_rng_chance(&g->rng, g->p->hot_fraction);
    g->room_mib[host->id] = host->memory_mib - MIN(host->memory_mib, HOST_OVERHEAD_MIB);
}

static void
make_pools(Gen *g)
{
    guint n_pools = MAX(1, g->p->n_pools);
    guint next_host = 0;

    for (guint p = 0; p < n_pools && g->p->n_hosts > 0; p++) {
        char name[32];
        VbPool *pool;
        guint vendor = vb_rng_below(&g->rng, G_N_ELEMENTS(vendors));
        gboolean mixed = vb_rng_chance(&g->rng, g->p->mixed_vendor_fraction);
        guint end = (guint) ((guint64) g->p->n_hosts * (p + 1) / n_pools);

        g_snprintf(name, sizeof(name), "pool%02u", p);
        pool = vb_inventory_add_pool(g->inv, name, NULL);
        pool->shared_storage = !vb_rng_chance(&g->rng, g->p->local_pool_fraction);
        for (; next_host < end; next_host++)
            make_host(g, pool, vendor, mixed, next_host);
    }
}

/* Cumulative draw weights over the hosts that take guests. */
static void
make_weights(Gen *g)
{
    double total = 0;

    for (guint h = 0; h < g->inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(g->inv, h);

        if (host->state == VB_HOST_STATE_DOWN)
            continue;
        total += (double) host->memory_mib * (g->hot[h] ? g->p->hot_weight : 1);
        g->eligible[g->n_eligible] = h;
        g->cum_weight[g->n_eligible++] = total;
    }
}

/* A host drawn by weight (binary search over the cumulative weights). */
static guint
draw_host(Gen *g)
{
    double x = vb_rng_double(&g->rng) * g->cum_weight[g->n_eligible - 1];
    guint lo = 0, hi = g->n_eligible - 1;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;

        if (g->cum_weight[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return g->eligible[lo];
}

/* A host with room for @memory_mib: a few weighted draws, then a scan from a
 * random place. Returns FALSE (and a drawn host) when none has room. */
static gboolean
find_host(Gen *g, guint64 memory_mib, guint *ret)
{
    guint start;

    for (guint i = 0; i < 8; i++) {
        guint h = draw_host(g);

        if (g->room_mib[h] >= memory_mib) {
            *ret = h;
            return TRUE;
        }
    }
    start = vb_rng_below(&g->rng, g->n_eligible);
    for (guint i = 0; i < g->n_eligible; i++) {
        guint h = g->eligible[(start + i) % g->n_eligible];

        if (g->room_mib[h] >= memory_mib) {
            *ret = h;
            return TRUE;
        }
    }
    *ret = g->eligible[start];
    return FALSE;
}

/* ---------------------------------------------------------------- guests */

/* Three decimals are what a sampler reports, and keep the dump short. */
static double
round3(double x)
{
    return round(x * 1000) / 1000;
}

/* CPU features the guest needs: a few of its host's base set, and on hosts
 * with the newest CPU sometimes the first new feature. */
static void
make_vm_features(Gen *g, VbVm *vm, const VbHost *host)
{
    guint v = g_str_equal(host->cpu_vendor, vendors[0].vendor) ? 0 : 1;

    vb_bits_set(&vm->cpu_features, g->vendor_feature[v][0]);
    if (vb_rng_chance(&g->rng, 0.5))
        vb_bits_set(&vm->cpu_features, g->vendor_feature[v][3]);
    if (!g->old_cpu[host->id] && vb_rng_chance(&g->rng, 0.1))
        vb_bits_set(&vm->cpu_features, g->vendor_feature[v][6]);
}

static void
make_vm_disks(Gen *g, VbVm *vm, VbHost *host)
{
    const VbPool *pool = vb_inventory_pool(g->inv, host->pool);
    double size = 20 + 10 * vb_rng_below(&g->rng, 19);

    if (pool->shared_storage) {
        vb_vm_add_disk(vm, "vda", size, TRUE);
        return;
    }
    size = MIN(size, floor(host->storage_free_gib));
    if (size < 1)
        return; /* the host's disks are full: a diskless (network-booted) guest */
    vb_vm_add_disk(vm, "vda", size, FALSE);
    host->storage_free_gib -= size;
}

static void
make_vm_tags(Gen *g, VbVm *vm)
{
    g_autoptr(GStrvBuilder) tags = g_strv_builder_new();
    gboolean any = FALSE;

    if (vb_rng_chance(&g->rng, g->p->passthrough_fraction)) {
        vm->devices = g_new0(char *, 2);
        vm->devices[0] = g_strdup_printf("pci:0000:%02x:00.0", 1 + vb_rng_below(&g->rng, 0x7f));
    }
    if (vb_rng_chance(&g->rng, g->p->no_migrate_fraction)) {
        g_strv_builder_add(tags, VB_TAG_NO_MIGRATE);
        any = TRUE;
    }
    if (vb_rng_chance(&g->rng, 0.3)) {
        g_strv_builder_add(tags, "prod");
        any = TRUE;
    }
    if (any)
        vm->tags = g_strv_builder_end(tags);
    if (vb_rng_chance(&g->rng, 0.7))
        vb_bits_set(&vm->labels, g->vm_label[vb_rng_below(&g->rng, G_N_ELEMENTS(vm_label_names))]);
}

static void
make_vm_state(Gen *g, VbVm *vm)
{
    double x = vb_rng_double(&g->rng);

    if (x < g->p->shutoff_fraction)
        vm->state = VB_VM_STATE_SHUTOFF;
    else if (x < g->p->shutoff_fraction * 1.25)
        vm->state = VB_VM_STATE_PAUSED;
}

static void
make_vm(Gen *g, guint index, double mean_mib)
{
    char name[32];
    double factor = size_factor[rng_pick(&g->rng, size_weight, G_N_ELEMENTS(size_weight))];
    guint64 memory = MAX(256, (guint64) (mean_mib * factor / 256) * 256);
    guint h;
    gboolean fits = find_host(g, memory, &h);
    VbHost *host = vb_inventory_host(g->inv, h);
    VbVm *vm;
    double u = vb_rng_double(&g->rng);

    g_snprintf(name, sizeof(name), "vm%06u", index);
    vm = vb_inventory_add_vm(g->inv, host, name, NULL);
    vm->memory_mib = memory;
    vm->vcpus = (guint) CLAMP(memory / 2048, 1, MIN(32, host->cpu_cores));
    make_vm_state(g, vm);
    if (!fits)
        vm->state = VB_VM_STATE_SHUTOFF;
    if (vm->state != VB_VM_STATE_SHUTOFF)
        g->room_mib[h] -= memory;
    if (vm->state == VB_VM_STATE_RUNNING) {
        /* Busy guests are rare; hot hosts' guests a little busier. */
        vm->cpu_usage = round3(g->hot[h] ? sqrt(u) * 0.9 : u * u * 0.8);
        vm->dirty_rate_mib_s = 5 * exp2(floor(vb_rng_double(&g->rng) * 6));
        g->vcpu_load[h] += vm->vcpus * vm->cpu_usage;
    }
    make_vm_features(g, vm, host);
    make_vm_disks(g, vm, host);
    make_vm_tags(g, vm);
    if (vb_rng_chance(&g->rng, 0.05))
        vm->last_migrated = 1700000000 + vb_rng_below(&g->rng, 30 * 86400);
}

/* Host load figures from the guests placed on it. */
static void
finish_hosts(Gen *g)
{
    for (guint h = 0; h < g->inv->hosts->len; h++) {
        VbHost *host = vb_inventory_host(g->inv, h);
        guint64 usable = host->memory_mib - MIN(host->memory_mib, HOST_OVERHEAD_MIB);

        if (host->state == VB_HOST_STATE_DOWN)
            continue;
        host->cpu_usage = MIN(1.0, round3(0.02 + g->vcpu_load[h] / host->cpu_cores));
        host->memory_used_mib = MIN(host->memory_mib, usable - g->room_mib[h] + 2048);
    }
}

VbInventory *
vb_inventory_generate(const VbGenerateParams *params)
{
    guint n_hosts = params->n_hosts;
    g_autofree guint64 *room = g_new0(guint64, n_hosts + 1);
    g_autofree double *cum = g_new0(double, n_hosts + 1);
    g_autofree guint *eligible = g_new0(guint, n_hosts + 1);
    g_autofree gboolean *hot = g_new0(gboolean, n_hosts + 1);
    g_autofree gboolean *old = g_new0(gboolean, n_hosts + 1);
    g_autofree double *vcpu_load = g_new0(double, n_hosts + 1);
    Gen g = {
        .p = params, .rng = { params->seed }, .inv = vb_inventory_new(),
        .room_mib = room, .cum_weight = cum, .eligible = eligible, .hot = hot,
        .old_cpu = old, .vcpu_load = vcpu_load,
    };
    double usable = 0, mean_factor = 0, mean;

    intern_names(&g);
    make_pools(&g);
    make_weights(&g);
    for (guint i = 0; i < g.n_eligible; i++)
        usable += (double) room[eligible[i]];
    for (guint i = 0; i < G_N_ELEMENTS(size_factor); i++)
        mean_factor += size_factor[i] * size_weight[i];
    /* The fill spread over the guests, divided by what the factors average. */
    mean = params->n_vms ? params->memory_fill * usable / params->n_vms / mean_factor : 0;
    for (guint v = 0; v < params->n_vms && g.n_eligible > 0; v++)
        make_vm(&g, v, mean);
    finish_hosts(&g);
    vb_inventory_host_totals(g.inv); /* complete now: planners start from it */
    return g.inv;
}
