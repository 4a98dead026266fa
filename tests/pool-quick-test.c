/*
 * pool-quick-test.c: the quick guest reader (pool/inventory-stream.c) gives
 * the same inventory, or the same error, as the tree reader.
 *
 * Each file is loaded twice, with vb_inventory_quick_guests on and off; the
 * two results must be equal: the same dump, the same feature and label ids
 * (the order names were first met), the same bits on every guest, the same
 * CPU mode and tags; or, for a bad file, the same message. Rows of guest
 * lines also say whether the quick reader must take the guest (inside its
 * subset) or leave it to the tree (outside it, valid or not), so that both
 * sides of the boundary are covered.
 */
#include "config.h"

#include <string.h>

#include "pool/inventory-priv.h"
#include "tests/testutil.h"

static void
assert_same_strtab(const VbStrtab *a, const VbStrtab *b, const char *what)
{
    ck_assert_msg(vb_strtab_size(a) == vb_strtab_size(b), "%s: %u names, %u", what,
                  vb_strtab_size(a), vb_strtab_size(b));
    for (guint i = 0; i < vb_strtab_size(a); i++)
        ck_assert_str_eq(vb_strtab_name(a, i), vb_strtab_name(b, i));
}

static gboolean
bits_equal(const VbBits *a, const VbBits *b)
{
    return vb_bits_is_subset(a, b) && vb_bits_is_subset(b, a);
}

static void
assert_same_inventory(const VbInventory *a, const VbInventory *b)
{
    g_autofree char *da = vb_inventory_to_yaml(a);
    g_autofree char *db = vb_inventory_to_yaml(b);

    ck_assert_str_eq(da, db);
    assert_same_strtab(a->features, b->features, "features");
    assert_same_strtab(a->labels, b->labels, "labels");
    ck_assert_uint_eq(a->vms->len, b->vms->len);
    for (guint i = 0; i < a->vms->len; i++) {
        const VbVm *va = vb_inventory_vm(a, i), *vb = vb_inventory_vm(b, i);

        ck_assert_msg(bits_equal(&va->cpu_features, &vb->cpu_features) &&
                          bits_equal(&va->labels, &vb->labels),
                      "guest %s: other feature or label ids", va->name);
        ck_assert_int_eq(va->cpu_mode, vb->cpu_mode);
        ck_assert_int_eq(va->last_migrated, vb->last_migrated);
        ck_assert_int_eq(va->tags == NULL, vb->tags == NULL);
        for (guint t = 0; va->tags && va->tags[t]; t++)
            ck_assert_str_eq(va->tags[t], vb->tags[t]);
        for (guint d = 0; d < va->n_disks; d++)
            ck_assert_int_eq(va->disks[d].shared, vb->disks[d].shared);
    }
}

/* Loads @text with the quick reader on and off and checks that both agree;
 * returns how many guests the quick reader took. */
static guint
load_both(const char *text)
{
    g_autoptr(GError) e_quick = NULL;
    g_autoptr(GError) e_tree = NULL;
    g_autoptr(VbInventory) quick = NULL;
    g_autoptr(VbInventory) tree = NULL;
    guint n_quick = 0, n_tree = 0;

    quick = vb_inventory_load_streaming(text, strlen(text), "q.yaml", &n_quick);
    if (!quick)
        quick = vb_inventory_load_data(text, strlen(text), "q.yaml", &e_quick);
    vb_inventory_quick_guests = FALSE;
    tree = vb_inventory_load_streaming(text, strlen(text), "q.yaml", &n_tree);
    if (!tree)
        tree = vb_inventory_load_data(text, strlen(text), "q.yaml", &e_tree);
    vb_inventory_quick_guests = TRUE;
    ck_assert_uint_eq(n_tree, 0);
    ck_assert_msg((quick == NULL) == (tree == NULL), "quick %s, tree %s",
                  e_quick ? e_quick->message : "loads", e_tree ? e_tree->message : "loads");
    if (!quick) {
        ck_assert_str_eq(e_quick->message, e_tree->message);
        return n_quick;
    }
    assert_same_inventory(quick, tree);
    return n_quick;
}

/* ------------------------------------------------------------ guest lines */

static const char pools[] =
    "pools:\n"
    "  - name: local\n"
    "    hosts:\n"
    "      - {name: h1, cpu: {vendor: Intel, cores: 16, features: [avx, sse4_2]}, "
    "memory_mib: 65536, labels: [ssd]}\n"
    "  - name: shared\n"
    "    shared_storage: true\n"
    "    hosts:\n"
    "      - {name: h2, cpu: {vendor: AMD, cores: 16, features: [avx2]}, memory_mib: 65536}\n"
    "vms:\n"
    "  - {name: first, host: h1, memory_mib: 512, labels: [web]}\n";

static const struct {
    const char *line; /* the guest between "first" and "last" */
    gboolean quick;   /* the quick reader takes it */
} line_rows[] = {
    { "{name: v, host: h1, memory_mib: 1024}", TRUE },
    { "{name: v, host: h2, vcpus: 1, memory_mib: 3840, cpu_usage: 0.007, dirty_rate_mib_s: 80, "
      "cpu: {features: [avx2, avx512f, sse4_2]}, disks: [{name: vda, size_gib: 170}], "
      "tags: [prod], labels: [cache]}", TRUE },
    { "{memory_mib: 1024, host: h1, name: v}", TRUE },
    { "{ name: v ,  host: h1, memory_mib: 1024  }", TRUE },
    { "{name: v, host: h2, memory_mib: 2048, disks: [{name: vda, size_gib: 10}, "
      "{size_gib: 5.5, name: vdb}]}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, state: paused}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, state: shutoff, vcpus: 65536}", TRUE },
    { "{name: v, host: h1, memory_mib: 01024}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, cpu_usage: 1.}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, dirty_rate_mib_s: 0.0000001}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, cpu: {}}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, tags: []}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, tags: [no-migrate, b]}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, disks: []}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, labels: [zz, web], cpu: {features: [newf, avx]}}",
      TRUE },
    { "{name: v, host: h1, memory_mib: 1, labels: [new1, new2], cpu: {features: [f1, f2]}}",
      TRUE },
    { "{name: a/b.c-d_e, host: h1, memory_mib: 1}", TRUE },
    { "{name: 123, host: h1, memory_mib: 1024}", TRUE },
    { "{name: yes, host: h1, memory_mib: 1024}", TRUE },
    /* outside the subset, valid */
    { "{name: v, host: h1, memory_mib: 1024, cpu_usage: 1e-3}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, devices: [pci-1]}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, cpu: {mode: host-model}}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, disks: [{name: vda, size_gib: 1, shared: true}]}",
      FALSE },
    { "{name: \"v\", host: h1, memory_mib: 1024}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, }", FALSE },
    { "{name: v, host: h1, memory_mib: 1024}  ", FALSE },
    { "{name: v, host: h1, memory_mib: 1024} # a comment", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, labels: web}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, last_migrated: 1700000000}", TRUE },
    { "{name: v, host: h1, memory_mib: 1024, last_migrated: 5, on_two_hosts: no}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, last_migrated: 9223372036854775808}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, cpu_usage: ~}", FALSE },
    /* outside the subset, refused (by the tree reader, with its message) */
    { "{name: v, host: h1, memory_mib: 1024, state: asleep}", FALSE },
    { "{name: v, host: h1, memory_mib: 0}", FALSE },
    { "{name: v, host: h1, memory_mib: 1e3}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, cpu_usage: 1.5}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, vcpus: 65537}", FALSE },
    { "{name: null, host: h1, memory_mib: 1024}", FALSE },
    { "{name: v, host: NULL, memory_mib: 1024}", FALSE },
    { "{name: v, host: nohost, memory_mib: 1024}", FALSE },
    { "{name: first, host: h1, memory_mib: 1024}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, name: w}", FALSE },
    { "{name: v, host: h1}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, bogus: 1}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, cpu: {features: [avx, NULL]}}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, labels: [null]}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, tags: [Null]}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, disks: [{name: vda, size_gib: 1}, "
      "{name: vda, size_gib: 2}]}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, disks: [{name: vda}]}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, disks: [{name: vda, size_gib: 1234567890123456}]}",
      FALSE },
    { "{name: v, host: h1, memory_mib: 1024, disks: [{name: null, size_gib: 1}]}", FALSE },
    { "{name: v, host: h1, memory_mib: 1024, cpu_usage: 0.5, cpu_usage: 0.6}", FALSE },
};

START_TEST(test_quick_lines)
{
    g_autofree char *text =
        g_strdup_printf("%s  - %s\n  - {name: last, host: h2, memory_mib: 256, tags: [x]}\n", pools,
                        line_rows[_i].line);
    guint n_quick = load_both(text);

    /* "first" and "last" are always quick; the row's guest only inside the
     * subset (when the row is refused, reading stops at it). */
    if (line_rows[_i].quick)
        ck_assert_msg(n_quick == 3, "%s: %u quick guests, want 3", line_rows[_i].line, n_quick);
    else
        ck_assert_msg(n_quick <= 2, "%s: %u quick guests, want at most 2", line_rows[_i].line,
                      n_quick);
}
END_TEST

/* A generated pool (hosts down, pass-through devices, local and shared
 * disks) loads alike both ways, and the quick reader takes the guests
 * without devices. */
START_TEST(test_quick_generated)
{
    VbGenerateParams params;
    g_autoptr(VbInventory) inv = NULL;
    g_autofree char *text = NULL;
    guint with_devices = 0;

    vb_generate_params_init(&params);
    params.seed = 11 + _i;
    params.n_hosts = 200;
    params.n_vms = 4000;
    params.down_fraction = 0.05;
    params.passthrough_fraction = 0.05;
    inv = vb_inventory_generate(&params);
    text = vb_inventory_to_yaml(inv);
    for (guint i = 0; i < inv->vms->len; i++)
        with_devices += vb_inventory_vm(inv, i)->devices != NULL;
    ck_assert_uint_gt(with_devices, 0);
    ck_assert_uint_eq(load_both(text), inv->vms->len - with_devices);
}
END_TEST

static Suite *
pool_quick_suite(void)
{
    Suite *s = suite_create("pool-quick");
    TCase *tc = tcase_create("quick");

    tcase_add_loop_test(tc, test_quick_lines, 0, G_N_ELEMENTS(line_rows));
    tcase_add_loop_test(tc, test_quick_generated, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(pool_quick_suite)
