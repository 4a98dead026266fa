/*
 * pool-test.c: the model, the inventory format, the generator, the main config.
 *
 * Data-driven: every tests/data/pool/good/NAME.yaml must load, dump to the
 * text in NAME.out beside it, and reload to an inventory that dumps the same;
 * every tests/data/pool/bad/NAME.yaml must be refused with exactly the message
 * in NAME.err. Same for config-good/ (expected NAME.out, a summary of the
 * loaded config) and config-bad/. VB_REGENERATE=1 rewrites .out and .err.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pool/pool.h"
#include "tests/testutil.h"

/* ---------------------------------------------------------- data files */

/* Sorted paths of tests/data/pool/@dir/ *.yaml (transfer full). */
static GPtrArray *
list_cases(const char *dir)
{
    g_autofree char *path = vb_test_data_path(dir);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".yaml"))
            g_ptr_array_add(files, g_build_filename(path, name, NULL));
    }
    g_ptr_array_sort(files, (GCompareFunc) g_strcmp0);
    return files;
}

static GPtrArray *good_cases, *bad_cases;

static char *
sibling(const char *yaml_path, const char *ext)
{
    g_autofree char *stem = g_strndup(yaml_path, strlen(yaml_path) - strlen(".yaml"));

    return g_strconcat(stem, ext, NULL);
}

/* Loads @path with its base name as the file name in messages. */
static VbInventory *
load_case(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *base = g_path_get_basename(path);
    gsize len = 0;

    ck_assert_msg(g_file_get_contents(path, &data, &len, NULL), "cannot read %s", path);
    return vb_inventory_load_data(data, len, base, error);
}

START_TEST(test_good_inventory)
{
    const char *path = g_ptr_array_index(good_cases, _i);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = load_case(path, &error);
    g_autoptr(VbInventory) again = NULL;
    g_autofree char *dump = NULL, *dump2 = NULL, *expected = sibling(path, ".out");

    ck_assert_msg(inv != NULL, "%s: %s", path, error ? error->message : "");
    dump = vb_inventory_to_yaml(inv);
    vb_test_compare_file(expected, dump);
    again = vb_inventory_load_data(dump, strlen(dump), "dump.yaml", &error);
    ck_assert_msg(again != NULL, "%s dumped: %s\n%s", path, error ? error->message : "", dump);
    dump2 = vb_inventory_to_yaml(again);
    ck_assert_str_eq(dump, dump2);
}
END_TEST

START_TEST(test_bad_inventory)
{
    const char *path = g_ptr_array_index(bad_cases, _i);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = load_case(path, &error);
    g_autofree char *expected = sibling(path, ".err");
    g_autofree char *message = NULL;

    ck_assert_msg(inv == NULL, "%s loaded but must be refused", path);
    ck_assert_msg(g_error_matches(error, VB_ERROR, VB_ERROR_INVALID_INPUT), "%s: %s", path,
                  error->message);
    message = g_strconcat(error->message, "\n", NULL);
    vb_test_compare_file(expected, message);
}
END_TEST


/* ------------------------------------------------------------ generator */

static VbInventory *
generate(guint pools, guint hosts, guint vms, guint64 seed)
{
    VbGenerateParams params;

    vb_generate_params_init(&params);
    params.n_pools = pools;
    params.n_hosts = hosts;
    params.n_vms = vms;
    params.seed = seed;
    return vb_inventory_generate(&params);
}

START_TEST(test_generate_deterministic)
{
    g_autoptr(VbInventory) a = generate(4, 60, 1200, 42);
    g_autoptr(VbInventory) b = generate(4, 60, 1200, 42);
    g_autoptr(VbInventory) c = generate(4, 60, 1200, 43);
    g_autofree char *ya = vb_inventory_to_yaml(a);
    g_autofree char *yb = vb_inventory_to_yaml(b);
    g_autofree char *yc = vb_inventory_to_yaml(c);

    ck_assert_uint_eq(a->pools->len, 4);
    ck_assert_uint_eq(a->hosts->len, 60);
    ck_assert_uint_eq(a->vms->len, 1200);
    ck_assert_str_eq(ya, yb);
    ck_assert_str_ne(ya, yc);
}
END_TEST

/* The validity contract of vb_inventory_generate (pool.h). */
static void
check_valid(const VbInventory *inv)
{
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        double local = 0;

        ck_assert_uint_eq(host->id, h);
        ck_assert_ptr_eq(vb_inventory_get_host(inv, host->name), host);
        ck_assert_uint_le(vb_host_allocated_memory_mib(inv, host), host->memory_mib);
        ck_assert_uint_le(host->memory_used_mib, host->memory_mib);
        ck_assert(host->cpu_usage >= 0 && host->cpu_usage <= 1);
        ck_assert(host->storage_free_gib >= 0 &&
                  host->storage_free_gib <= host->storage_total_gib);
        if (host->state == VB_HOST_STATE_DOWN)
            ck_assert_uint_eq(host->vms->len, 0);
        for (guint i = 0; i < host->vms->len; i++) {
            const VbVm *vm = vb_inventory_vm(inv, g_array_index(host->vms, guint, i));

            ck_assert_uint_eq(vm->host, h);
            ck_assert_msg(vb_bits_is_subset(&vm->cpu_features, &host->cpu_features),
                          "%s needs features %s lacks", vm->name, host->name);
            local += vb_vm_local_disk_gib(vm);
        }
        ck_assert(local <= host->storage_total_gib - host->storage_free_gib + 1e-6);
    }
    for (guint v = 0; v < inv->vms->len; v++) {
        const VbVm *vm = vb_inventory_vm(inv, v);

        ck_assert_uint_eq(vm->id, v);
        ck_assert_uint_ge(vm->vcpus, 1);
        ck_assert_uint_ge(vm->memory_mib, 256);
        ck_assert(vm->cpu_usage >= 0 && vm->cpu_usage <= 1);
    }
}

/* Counts of what the generator must mix in (with the default fractions). */
START_TEST(test_generate_valid)
{
    g_autoptr(VbInventory) inv = generate(8, 400, 8000, 5);
    g_autofree char *yaml = vb_inventory_to_yaml(inv);
    g_autoptr(VbInventory) again = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *yaml2 = NULL;
    guint pinned = 0, shutoff = 0, local_pools = 0, amd = 0, not_up = 0, local_disks = 0;

    check_valid(inv);
    for (guint v = 0; v < inv->vms->len; v++) {
        const VbVm *vm = vb_inventory_vm(inv, v);

        pinned += vb_vm_is_pinned(vm, NULL);
        shutoff += vm->state == VB_VM_STATE_SHUTOFF;
        local_disks += vb_vm_local_disk_gib(vm) > 0;
    }
    for (guint p = 0; p < inv->pools->len; p++)
        local_pools += !vb_inventory_pool(inv, p)->shared_storage;
    for (guint h = 0; h < inv->hosts->len; h++) {
        amd += g_str_equal(vb_inventory_host(inv, h)->cpu_vendor, "AMD");
        not_up += vb_inventory_host(inv, h)->state != VB_HOST_STATE_UP;
    }
    ck_assert_uint_gt(pinned, 0);
    ck_assert_uint_gt(shutoff, 0);
    ck_assert_uint_gt(local_pools, 0);
    ck_assert_uint_gt(local_disks, 0);
    ck_assert_uint_gt(amd, 0);
    ck_assert_uint_lt(amd, inv->hosts->len);
    ck_assert_uint_gt(not_up, 0);
    /* A generated pool survives the file format unchanged. */
    again = vb_inventory_load_data(yaml, strlen(yaml), "generated.yaml", &error);
    ck_assert_msg(again != NULL, "%s", error ? error->message : "");
    check_valid(again);
    yaml2 = vb_inventory_to_yaml(again);
    ck_assert_str_eq(yaml, yaml2);
}
END_TEST

/* Hot hosts: the skew must show as a spread of memory fill. */
START_TEST(test_generate_skewed)
{
    g_autoptr(VbInventory) inv = generate(2, 100, 2000, 9);
    double lo = 1, hi = 0;

    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        double fill = (double) vb_host_allocated_memory_mib(inv, host) / host->memory_mib;

        if (host->state == VB_HOST_STATE_DOWN)
            continue;
        lo = MIN(lo, fill);
        hi = MAX(hi, fill);
    }
    ck_assert_msg(hi - lo > 0.4, "fill spread %g..%g is too even", lo, hi);
}
END_TEST

START_TEST(test_generate_degenerate)
{
    g_autoptr(VbInventory) none = generate(3, 0, 100, 1);
    g_autoptr(VbInventory) few = generate(5, 2, 10, 1);

    ck_assert_uint_eq(none->hosts->len, 0);
    ck_assert_uint_eq(none->vms->len, 0);
    ck_assert_uint_eq(few->hosts->len, 2);
    check_valid(few);
}
END_TEST

/* ------------------------------------------------------- copy and move */

START_TEST(test_copy_and_move)
{
    g_autofree char *path = vb_test_data_path("pool/good/small.yaml");
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = vb_inventory_load_file(path, &error);
    g_autoptr(VbInventory) copy = NULL;
    g_autofree char *before = NULL, *copied = NULL, *after = NULL, *original = NULL;
    VbVm *web1;
    VbHost *kvm1, *kvm2;

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    copy = vb_inventory_copy(inv);
    before = vb_inventory_to_yaml(inv);
    copied = vb_inventory_to_yaml(copy);
    ck_assert_str_eq(before, copied);
    web1 = vb_inventory_get_vm(copy, "web1");
    kvm1 = vb_inventory_get_host(copy, "kvm1");
    kvm2 = vb_inventory_get_host(copy, "kvm2");
    ck_assert_uint_eq(kvm1->vms->len, 2);
    vb_inventory_move_vm(copy, web1, kvm2);
    ck_assert_uint_eq(web1->host, kvm2->id);
    ck_assert_uint_eq(kvm1->vms->len, 1);
    ck_assert_uint_eq(kvm2->vms->len, 2);
    ck_assert_uint_eq(vb_host_allocated_memory_mib(copy, kvm2), 8192);
    /* The original is untouched, and the move shows in the dump. */
    ck_assert_uint_eq(vb_inventory_get_host(inv, "kvm1")->vms->len, 2);
    after = vb_inventory_to_yaml(copy);
    ck_assert_ptr_nonnull(strstr(after, "{name: web1, host: kvm2,"));
    original = vb_inventory_to_yaml(inv);
    ck_assert_str_eq(before, original);
}
END_TEST

/* ---------------------------------------------------------- main config */

static GPtrArray *config_good_cases, *config_bad_cases;

/* Replaces every "@dir/" in @text by "<dir>/" (transfer full), so that expected
 * files do not depend on where the tree is. */
static char *
strip_dir(const char *text, const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *prefix = g_strconcat(dir, G_DIR_SEPARATOR_S, NULL);
    g_auto(GStrv) parts = g_strsplit(text, prefix, -1);

    return g_strjoinv("<dir>/", parts);
}

static char *
describe_config(const VbConfig *c)
{
    GString *out = g_string_new(NULL);

    g_string_append_printf(out, "driver: %s\ninventory: %s\npolicy: %s\ndatabase: %s\n",
                           c->driver, c->inventory ? c->inventory : "-",
                           c->policy ? c->policy : "-", c->database);
    g_string_append_printf(out, "sample_interval: %u\nwindow: %u\nretention: %u\n"
                           "rebalance_interval: %u\nconnect_timeout: %u\nmax_parallel_hosts: %u\n",
                           c->sample_interval_seconds, c->window_seconds, c->retention_seconds,
                           c->rebalance_interval_seconds, c->connect_timeout_seconds,
                           c->max_parallel_hosts);
    /* Only when set: the other cases' expectations predate the key. */
    if (c->http_listen)
        g_string_append_printf(out, "http_listen: %s\n", c->http_listen);
    for (guint p = 0; p < c->pools->len; p++) {
        const VbConfigPool *pool = g_ptr_array_index(c->pools, p);

        g_string_append_printf(out, "pool %s shared_storage=%s\n", pool->name,
                               pool->shared_storage ? "true" : "false");
        for (guint h = 0; h < pool->hosts->len; h++) {
            const VbConfigHost *host = g_ptr_array_index(pool->hosts, h);
            g_autofree char *labels =
                host->labels ? g_strjoinv(",", host->labels) : g_strdup("-");

            g_string_append_printf(out, "  host %s uri=%s labels=%s migration_host=%s "
                                   "cpu_vendor=%s at %u:%u\n", host->name, host->uri, labels,
                                   host->migration_host ? host->migration_host : "-",
                                   host->cpu_vendor ? host->cpu_vendor : "-", host->line,
                                   host->column);
        }
    }
    return g_string_free(out, FALSE);
}

START_TEST(test_good_config)
{
    const char *path = g_ptr_array_index(config_good_cases, _i);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbConfig) config = vb_config_load_file(path, &error);
    g_autofree char *expected = sibling(path, ".out");
    g_autofree char *text = NULL, *stripped = NULL;

    ck_assert_msg(config != NULL, "%s: %s", path, error ? error->message : "");
    ck_assert_str_eq(config->filename, path);
    text = describe_config(config);
    stripped = strip_dir(text, path);
    vb_test_compare_file(expected, stripped);
}
END_TEST

START_TEST(test_bad_config)
{
    const char *path = g_ptr_array_index(config_bad_cases, _i);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbConfig) config = vb_config_load_file(path, &error);
    g_autofree char *expected = sibling(path, ".err");
    g_autofree char *message = NULL, *stripped = NULL;

    ck_assert_msg(config == NULL, "%s loaded but must be refused", path);
    ck_assert_msg(g_error_matches(error, VB_ERROR, VB_ERROR_INVALID_INPUT), "%s: %s", path,
                  error->message);
    message = g_strconcat(error->message, "\n", NULL);
    stripped = strip_dir(message, path);
    vb_test_compare_file(expected, stripped);
}
END_TEST

START_TEST(test_config_defaults)
{
    g_autoptr(VbConfig) config = vb_config_new_default();
    g_autoptr(GError) error = NULL;
    g_autoptr(VbConfig) missing = vb_config_load_file("/nonexistent/virt-balancer.yaml", &error);

    ck_assert_str_eq(config->driver, "libvirt");
    ck_assert_uint_eq(config->pools->len, 0);
    ck_assert_uint_eq(config->sample_interval_seconds, 30);
    ck_assert_uint_eq(config->window_seconds, 300);
    ck_assert_uint_eq(config->connect_timeout_seconds, 10);
    ck_assert_uint_eq(config->max_parallel_hosts, 64);
    ck_assert_ptr_null(config->policy);
    ck_assert_ptr_null(missing);
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_IO));
    vb_config_free(NULL);
}
END_TEST

/* The shipped examples must load: the inventory and both configs. */
START_TEST(test_examples_load)
{
    static const char *const configs[] = { "virt-balancer.yaml", "sim-config.yaml" };
    const char *srcdir = g_getenv("VB_SRCDIR") ? g_getenv("VB_SRCDIR") : VB_SRCDIR;
    g_autofree char *demo = g_build_filename(srcdir, "examples", "demo-pool.yaml", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = vb_inventory_load_file(demo, &error);

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    ck_assert_uint_ge(inv->hosts->len, 10);
    ck_assert_uint_ge(inv->vms->len, 50);
    {
        g_autofree char *dump = vb_inventory_to_yaml(inv);
        g_autoptr(VbInventory) again = vb_inventory_load_data(dump, strlen(dump), "d", &error);
        g_autofree char *dump2 = NULL;

        ck_assert_msg(again != NULL, "%s", error ? error->message : "");
        dump2 = vb_inventory_to_yaml(again);
        ck_assert_str_eq(dump, dump2);
    }
    for (guint i = 0; i < G_N_ELEMENTS(configs); i++) {
        g_autofree char *path = g_build_filename(srcdir, "examples", configs[i], NULL);
        g_autoptr(VbConfig) config = vb_config_load_file(path, &error);

        ck_assert_msg(config != NULL, "%s", error ? error->message : "");
        if (g_str_equal(config->driver, "sim"))
            ck_assert_str_eq(config->inventory, demo);
    }
}
END_TEST

/* Robustness: every prefix of a good file, and the file with single bytes
 * replaced, either loads or is refused with a located message; never a
 * crash (the sanitizer build checks the memory side). */
START_TEST(test_damaged_inventory)
{
    static const char replacements[] = { ':', '-', '[', '{', '}', '"', ' ', '\n', 'x', '9' };
    g_autofree char *path = vb_test_data_path("pool/good/small.yaml");
    g_autofree char *data = NULL;
    gsize len = 0;
    guint refused = 0;

    ck_assert(g_file_get_contents(path, &data, &len, NULL));
    for (gsize cut = 0; cut <= len; cut += 3) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VbInventory) inv = vb_inventory_load_data(data, cut, "cut.yaml", &error);

        ck_assert((inv == NULL) == (error != NULL));
        if (error) {
            ck_assert_msg(g_str_has_prefix(error->message, "cut.yaml:"), "%s", error->message);
            refused++;
        }
    }
    for (gsize at = 0; at < len; at += 5) {
        g_autofree char *copy = g_memdup2(data, len);
        g_autoptr(GError) error = NULL;
        g_autoptr(VbInventory) inv = NULL;

        copy[at] = replacements[at % sizeof(replacements)];
        inv = vb_inventory_load_data(copy, len, "flip.yaml", &error);
        ck_assert((inv == NULL) == (error != NULL));
        if (error)
            ck_assert_msg(g_str_has_prefix(error->message, "flip.yaml:"), "%s", error->message);
    }
    ck_assert_uint_gt(refused, 10);
}
END_TEST

/* ------------------------------------------------------------ host totals */

/* The totals recomputed independently (from each host's guest list). */
static void
assert_totals_fresh(const VbInventory *inv, const char *step)
{
    const VbHostTotals *totals = vb_inventory_host_totals(inv);

    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        guint64 mem = 0;
        guint vcpus = 0;
        double disk = 0, local = 0;

        for (guint i = 0; i < host->vms->len; i++) {
            const VbVm *vm = vb_inventory_vm(inv, g_array_index(host->vms, guint, i));

            for (guint d = 0; d < vm->n_disks; d++) {
                disk += vm->disks[d].size_gib;
                local += vm->disks[d].shared ? 0 : vm->disks[d].size_gib;
            }
            if (vm->state != VB_VM_STATE_SHUTOFF)
                mem += vm->memory_mib, vcpus += vm->vcpus;
        }
        ck_assert_msg(totals[h].memory_mib == mem && totals[h].vcpus == vcpus &&
                          fabs(totals[h].disk_gib - disk) < 1e-6 &&
                          fabs(totals[h].local_disk_gib - local) < 1e-6,
                      "%s: stale totals on %s", step, host->name);
        ck_assert_uint_eq(totals[h].memory_mib, vb_host_allocated_memory_mib(inv, host));
    }
}

/* The per-host totals follow every way the model changes: generating,
 * copying, moving guests, adding guests, and direct writes announced with
 * vb_inventory_changed(). */
START_TEST(test_host_totals)
{
    VbGenerateParams params;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbInventory) copy = NULL;
    VbVm *vm;
    guint64 before;

    vb_generate_params_init(&params);
    params.seed = 7;
    params.n_hosts = 30;
    params.n_vms = 600;
    inv = vb_inventory_generate(&params);
    assert_totals_fresh(inv, "generated");
    copy = vb_inventory_copy(inv);
    assert_totals_fresh(copy, "copied");
    vm = vb_inventory_vm(copy, 0);
    if (vm->state == VB_VM_STATE_SHUTOFF)
        vm->state = VB_VM_STATE_RUNNING, vb_inventory_changed(copy);
    before = vb_inventory_host_totals(copy)[vm->host].memory_mib;
    for (guint v = 0; v < 50; v++) {
        VbVm *g = vb_inventory_vm(copy, v * 7 % copy->vms->len);

        vb_inventory_move_vm(copy, g, vb_inventory_host(copy, (g->host + 1 + v) % 30));
    }
    assert_totals_fresh(copy, "after moves");
    vm = vb_inventory_vm(copy, 1);
    vm->state = vm->state == VB_VM_STATE_SHUTOFF ? VB_VM_STATE_RUNNING : VB_VM_STATE_SHUTOFF;
    vm->memory_mib += 4096;
    vb_inventory_changed(copy);
    assert_totals_fresh(copy, "after direct writes");
    vm = vb_inventory_add_vm(copy, vb_inventory_host(copy, 3), "extra", NULL);
    vm->memory_mib = 1024;
    vb_vm_add_disk(vm, "vda", 12.5, FALSE);
    assert_totals_fresh(copy, "after adding a guest");
    /* The first guest moved away from its host: its memory left the total. */
    ck_assert(vb_inventory_host_totals(copy)[vb_inventory_vm(inv, 0)->host].memory_mib != before ||
              vb_inventory_vm(copy, 0)->host == vb_inventory_vm(inv, 0)->host);
    assert_totals_fresh(inv, "original untouched");
}
END_TEST

/* Guests live side by side in a few blocks, in id order, and their names in
 * a few text blocks (pool.c's header; the CLI loads 200,000 and frees them
 * at exit), also in a copy. */
START_TEST(test_vm_blocks)
{
    g_autoptr(VbInventory) inv = generate(2, 30, 5000, 3);
    g_autoptr(VbInventory) copy = vb_inventory_copy(inv);
    const VbInventory *both[] = { inv, copy };

    for (guint k = 0; k < G_N_ELEMENTS(both); k++) {
        const VbInventory *in = both[k];
        guint breaks = 0;

        for (guint i = 1; i < in->vms->len; i++)
            breaks += vb_inventory_vm(in, i) != vb_inventory_vm(in, i - 1) + 1;
        ck_assert_uint_eq(breaks + 1, in->vm_blocks->len);
        ck_assert_uint_le(in->vm_blocks->len, 10);
        ck_assert_uint_le(in->name_blocks->len, 2);
        ck_assert_str_eq(vb_inventory_get_vm(in, vb_inventory_vm(in, 4999)->name)->name,
                         vb_inventory_vm(in, 4999)->name);
    }
}
END_TEST

/* A generated pool's file (hosts down with reasons, pass-through devices,
 * local disks: quoted scalars and nested flow collections) loads to the same
 * inventory through util's YAML fast path and through libyaml alone. */
START_TEST(test_generated_file_both_parsers)
{
    VbGenerateParams params;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbInventory) fast = NULL;
    g_autoptr(VbInventory) slow = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autofree char *fast_text = NULL;
    g_autofree char *slow_text = NULL;

    vb_generate_params_init(&params);
    params.seed = 11;
    params.n_hosts = 200;
    params.n_vms = 4000;
    params.down_fraction = 0.05;
    params.passthrough_fraction = 0.05;
    inv = vb_inventory_generate(&params);
    text = vb_inventory_to_yaml(inv);
    ck_assert_ptr_nonnull(strstr(text, "\""));
    fast = vb_inventory_load_data(text, strlen(text), "gen.yaml", &error);
    ck_assert_msg(fast, "%s", error ? error->message : "");
    vb_yaml_slow_only = TRUE;
    slow = vb_inventory_load_data(text, strlen(text), "gen.yaml", &error);
    vb_yaml_slow_only = FALSE;
    ck_assert_msg(slow, "%s", error ? error->message : "");
    fast_text = vb_inventory_to_yaml(fast);
    slow_text = vb_inventory_to_yaml(slow);
    ck_assert_str_eq(fast_text, text);
    ck_assert_str_eq(slow_text, text);
}
END_TEST

static Suite *
pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("inventory");

    good_cases = list_cases("pool/good");
    bad_cases = list_cases("pool/bad");
    /* Not ck_assert: no test runs yet. A missing folder must not pass silently. */
    if (good_cases->len < 3 || bad_cases->len < 15)
        g_error("tests/data/pool/good or bad is missing (is VB_SRCDIR right?)");
    tcase_add_loop_test(tc, test_good_inventory, 0, good_cases->len);
    tcase_add_loop_test(tc, test_bad_inventory, 0, bad_cases->len);
    tcase_add_test(tc, test_damaged_inventory);
    suite_add_tcase(s, tc);
    tc = tcase_create("generate");
    tcase_add_test(tc, test_generate_deterministic);
    tcase_add_test(tc, test_generate_valid);
    tcase_add_test(tc, test_generate_skewed);
    tcase_add_test(tc, test_generate_degenerate);
    suite_add_tcase(s, tc);
    tc = tcase_create("config");
    config_good_cases = list_cases("pool/config-good");
    config_bad_cases = list_cases("pool/config-bad");
    if (config_good_cases->len < 2 || config_bad_cases->len < 10)
        g_error("tests/data/pool/config-good or config-bad is missing");
    tcase_add_loop_test(tc, test_good_config, 0, config_good_cases->len);
    tcase_add_loop_test(tc, test_bad_config, 0, config_bad_cases->len);
    tcase_add_test(tc, test_config_defaults);
    tcase_add_test(tc, test_examples_load);
    suite_add_tcase(s, tc);
    tc = tcase_create("model");
    tcase_add_test(tc, test_copy_and_move);
    tcase_add_test(tc, test_host_totals);
    tcase_add_test(tc, test_vm_blocks);
    tcase_add_test(tc, test_generated_file_both_parsers);
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(pool_suite)
