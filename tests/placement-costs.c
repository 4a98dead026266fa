/*
 * placement-costs.c: the estimate's measured terms (setup, per-pair
 * bandwidth) and the calibration that measures them (placement/calibrate.c).
 *
 * Calibration rows are data: each gives the finished migrations, newest
 * first, as "FROM>TO:MIB:SECONDS" words (host ids), the policy's setup, and
 * what must come out: whether the setup was measured, its value, and each
 * pair's bandwidth as "FROM>TO=MIB_S" words (pairs not listed get none).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "tests/placement-testlib.h"

/* ------------------------------------------------------------ calibration */

static const struct {
    const char *what;
    const char *obs;        /* "from>to:mib:seconds ...", newest first */
    double policy_setup;
    gboolean measured;
    double setup;
    const char *pairs;      /* "from>to=mib_s ..." */
} calib_rows[] = {
    { "lab: one size, setup not measurable, effective rate from the median",
      "0>1:64:2 0>1:64:3 0>1:64:4 0>1:64:5 0>1:64:6", 0, FALSE, 0, "0>1=16" },
    { "one size: the policy's setup is kept and taken off each duration",
      "0>1:64:2 0>1:64:3 0>1:64:4 0>1:64:5 0>1:64:6", 1.5, FALSE, 1.5, "0>1=25.6" },
    { "sizes 2x apart: setup and bandwidth both measured (2 s + MiB/100)",
      "0>1:100:3 0>1:200:4 0>1:400:6 0>1:800:10", 5, TRUE, 2, "0>1=100" },
    { "one migration 15x slower does not move either figure",
      "0>1:100:3 0>1:200:4 0>1:400:60 0>1:400:6 0>1:800:10", 0, TRUE, 2, "0>1=100" },
    { "the setup is shared; bandwidth is per pair and per direction",
      "0>1:100:3 0>1:200:4 0>1:400:6 0>1:800:10 1>0:100:4 1>0:100:4 1>0:100:4", 0, TRUE, 2,
      "0>1=100 1>0=50" },
    { "two migrations are too few for a pair",
      "0>1:100:3 0>1:200:4 2>1:64:4 2>1:64:4", 0, FALSE, 0, "" },
    { "migrations with no data or no duration are ignored",
      "0>1:64:0 0>1:0:5 0>1:64:-1 0>1:64:nan 0>1:64:4 0>1:64:4 0>1:64:4", 0, FALSE, 0,
      "0>1=16" },
    { "a negative fitted setup is clamped to 0",
      "0>1:100:0.5 0>1:200:1.5 0>1:400:3.5", 0, TRUE, 0, "0>1=133.333" },
    { "a pair faster than the setup gets no bandwidth, the others keep theirs",
      "0>1:100:3 0>1:200:4 0>1:400:6 0>1:800:10 1>0:10:1.5 1>0:10:1.5 1>0:10:1.5", 0, TRUE, 2,
      "0>1=100" },
};

/* Parses "f>t:mib:seconds" words (transfer full). */
static GArray *
parse_obs(const char *text)
{
    g_auto(GStrv) words = g_strsplit(text, " ", -1);
    GArray *obs = g_array_new(FALSE, FALSE, sizeof(VbObservedMigration));

    for (guint i = 0; words[i]; i++) {
        VbObservedMigration o = { 0 };
        char *end = NULL;

        if (!*words[i])
            continue;
        o.from = (guint) g_ascii_strtoull(words[i], &end, 10);
        ck_assert(*end == '>');
        o.to = (guint) g_ascii_strtoull(end + 1, &end, 10);
        ck_assert(*end == ':');
        o.mib = g_ascii_strtod(end + 1, &end);
        ck_assert(*end == ':');
        o.seconds = g_ascii_strtod(end + 1, &end);
        ck_assert(*end == '\0');
        g_array_append_val(obs, o);
    }
    return obs;
}

static char *
pairs_text(const VbCalibration *cal)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < cal->pairs->len; i++) {
        const VbPairBandwidth *p = &g_array_index(cal->pairs, VbPairBandwidth, i);

        g_string_append_printf(out, "%s%u>%u=%g", i ? " " : "", p->from, p->to,
                               round(p->mib_s * 1000) / 1000);
    }
    return g_string_free(out, FALSE);
}

START_TEST(test_calibrate)
{
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(GArray) obs = parse_obs(calib_rows[_i].obs);
    g_autoptr(VbCalibration) cal = NULL;
    g_autofree char *pairs = NULL;

    policy->migration.setup_seconds = calib_rows[_i].policy_setup;
    cal = vb_placement_calibrate(policy, (VbObservedMigration *) (void *) obs->data, obs->len);
    pairs = pairs_text(cal);
    ck_assert_msg(cal->setup_measured == calib_rows[_i].measured, "row %d (%s): measured %d",
                  _i, calib_rows[_i].what, cal->setup_measured);
    ck_assert_msg(fabs(cal->setup_seconds - calib_rows[_i].setup) < 1e-9,
                  "row %d (%s): setup %g s, expected %g", _i, calib_rows[_i].what,
                  cal->setup_seconds, calib_rows[_i].setup);
    ck_assert_msg(strcmp(pairs, calib_rows[_i].pairs) == 0, "row %d (%s): pairs '%s', expected '%s'",
                  _i, calib_rows[_i].what, pairs, calib_rows[_i].pairs);
}
END_TEST

/* Only the newest VB_CALIBRATE_PER_PAIR migrations of a pair count: 20 new
 * ones at 2 s outweigh 30 old ones at 8 s, which would win a median of all. */
START_TEST(test_calibrate_newest)
{
    g_autoptr(GArray) obs = g_array_new(FALSE, FALSE, sizeof(VbObservedMigration));
    g_autoptr(VbCalibration) cal = NULL;

    for (guint i = 0; i < 50; i++) {
        VbObservedMigration o = { 0, 1, 64, i < VB_CALIBRATE_PER_PAIR ? 2.0 : 8.0 };

        g_array_append_val(obs, o);
    }
    cal = vb_placement_calibrate(NULL, (VbObservedMigration *) (void *) obs->data, obs->len);
    ck_assert_uint_eq(cal->pairs->len, 1);
    ck_assert_uint_eq(g_array_index(cal->pairs, VbPairBandwidth, 0).n, VB_CALIBRATE_PER_PAIR);
    ck_assert_double_eq_tol(g_array_index(cal->pairs, VbPairBandwidth, 0).mib_s, 32.0, 1e-9);
}
END_TEST

/* ---------------------------------------------------------------- estimate */

static const struct {
    const char *what;
    double policy_setup, cap;
    gboolean measured;
    double setup;             /* measured setup (when measured) */
    double pair_ab, pair_ba;  /* measured bandwidth h1->h2, h2->h1; 0 none */
    VbMoveKind kind;
    double expect;            /* 8192 MiB guest, hosts at 1000 MiB/s, 100 GiB local disk */
} estimate_cost_rows[] = {
    { "policy setup added to a live move", 2, 0, FALSE, 0, 0, 0, VB_MOVE_LIVE, 10.192 },
    { "policy setup added to a live-storage move", 2, 0, FALSE, 0, 0, 0, VB_MOVE_LIVE_STORAGE,
      112.592 },
    { "a cold move has no setup", 2, 0, FALSE, 0, 0, 0, VB_MOVE_COLD, 102.4 },
    { "a measured setup wins over the policy's", 2, 0, TRUE, 3, 0, 0, VB_MOVE_LIVE, 11.192 },
    { "a measured setup of 0 is a measurement", 2, 0, TRUE, 0, 0, 0, VB_MOVE_LIVE, 8.192 },
    { "the pair's measured bandwidth wins over the hosts'", 0, 0, FALSE, 0, 500, 0,
      VB_MOVE_LIVE, 16.384 },
    { "the other direction's bandwidth is not this pair's", 0, 0, FALSE, 0, 0, 500,
      VB_MOVE_LIVE, 8.192 },
    { "the policy's cap bounds a measured bandwidth", 0, 250, FALSE, 0, 500, 0, VB_MOVE_LIVE,
      32.768 },
    { "a cold move copies at the nominal bandwidth", 0, 0, FALSE, 0, 500, 0, VB_MOVE_COLD,
      102.4 },
    { "measured setup and bandwidth together, live-storage", 0, 0, TRUE, 1, 500, 0,
      VB_MOVE_LIVE_STORAGE, 1 + 16.384 + 204.8 },
};

START_TEST(test_estimate_costs)
{
    g_autoptr(VbInventory) inv = vb_inventory_new();
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    VbPool *pool = vb_inventory_add_pool(inv, "p", NULL);
    VbHost *from = vb_inventory_add_host(inv, pool, "h1", NULL);
    VbHost *to = vb_inventory_add_host(inv, pool, "h2", NULL);
    VbVm *vm = vb_inventory_add_vm(inv, from, "g", NULL);
    double got;

    vm->memory_mib = 8192;
    from->migration_bandwidth_mib_s = to->migration_bandwidth_mib_s = 1000;
    vb_vm_add_disk(vm, "vdb", 100, FALSE);
    policy->migration.setup_seconds = estimate_cost_rows[_i].policy_setup;
    policy->migration.bandwidth_mib_s = estimate_cost_rows[_i].cap;
    inv->costs.setup_measured = estimate_cost_rows[_i].measured;
    inv->costs.setup_seconds = estimate_cost_rows[_i].setup;
    vb_inventory_set_pair_bandwidth(inv, from->id, to->id, estimate_cost_rows[_i].pair_ab);
    vb_inventory_set_pair_bandwidth(inv, to->id, from->id, estimate_cost_rows[_i].pair_ba);
    got = vb_placement_estimate_seconds(inv, policy, vm, from, to, estimate_cost_rows[_i].kind);
    ck_assert_msg(fabs(got - estimate_cost_rows[_i].expect) < 1e-3,
                  "row %d (%s): %.4f s, expected %.4f", _i, estimate_cost_rows[_i].what, got,
                  estimate_cost_rows[_i].expect);
}
END_TEST

/* Calibrated from migrations that took 2 s + MiB/100, the estimate gives
 * exactly that for other sizes too; the costs survive a copy of the
 * inventory and are replaced, not merged, by the next calibration. */
START_TEST(test_calibrated_estimate)
{
    g_autoptr(VbInventory) inv = vb_inventory_new();
    g_autoptr(VbInventory) copy = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(GArray) obs = parse_obs("0>1:100:3 0>1:200:4 0>1:400:6 0>1:800:10");
    g_autoptr(GArray) none = parse_obs("");
    g_autoptr(VbCalibration) cal = NULL;
    g_autoptr(VbCalibration) empty = NULL;
    VbPool *pool = vb_inventory_add_pool(inv, "p", NULL);
    VbHost *a = vb_inventory_add_host(inv, pool, "a", NULL);
    VbHost *b = vb_inventory_add_host(inv, pool, "b", NULL);
    VbVm *vm = vb_inventory_add_vm(inv, a, "g", NULL);

    pool->shared_storage = TRUE;
    vm->memory_mib = 3000;
    cal = vb_placement_calibrate(policy, (VbObservedMigration *) (void *) obs->data, obs->len);
    vb_placement_calibration_apply(inv, cal);
    ck_assert_double_eq_tol(vb_placement_estimate_seconds(inv, policy, vm, a, b, VB_MOVE_LIVE),
                            32.0, 1e-9);
    /* b -> a was never measured: setup + nominal 1000 MiB/s. */
    ck_assert_double_eq_tol(vb_placement_estimate_seconds(inv, policy, vm, b, a, VB_MOVE_LIVE),
                            5.0, 1e-9);
    copy = vb_inventory_copy(inv);
    ck_assert_double_eq_tol(
        vb_placement_estimate_seconds(copy, policy, vb_inventory_get_vm(copy, "g"),
                                      vb_inventory_get_host(copy, "a"),
                                      vb_inventory_get_host(copy, "b"), VB_MOVE_LIVE),
        32.0, 1e-9);
    empty = vb_placement_calibrate(policy, (VbObservedMigration *) (void *) none->data, 0);
    vb_placement_calibration_apply(inv, empty);
    ck_assert(!inv->costs.setup_measured);
    ck_assert_double_eq_tol(vb_placement_estimate_seconds(inv, policy, vm, a, b, VB_MOVE_LIVE),
                            3.0, 1e-9);
}
END_TEST

/* Bandwidths measured against the policy's setup go with it: estimated under
 * any policy afterwards, the lab's 64 MiB guest takes the median of what it
 * took (4 s), not 64 / 25.6 s alone. */
START_TEST(test_calibrated_setup_goes_with_pairs)
{
    g_autoptr(VbInventory) inv = vb_inventory_new();
    g_autoptr(VbPolicy) at_calibration = vb_policy_new_default();
    g_autoptr(VbPolicy) later = vb_policy_new_default();
    g_autoptr(GArray) obs = parse_obs("0>1:64:2 0>1:64:3 0>1:64:4 0>1:64:5 0>1:64:6");
    g_autoptr(VbCalibration) cal = NULL;
    VbPool *pool = vb_inventory_add_pool(inv, "p", NULL);
    VbHost *a = vb_inventory_add_host(inv, pool, "a", NULL);
    VbHost *b = vb_inventory_add_host(inv, pool, "b", NULL);
    VbVm *vm = vb_inventory_add_vm(inv, a, "g", NULL);

    vm->memory_mib = 64;
    at_calibration->migration.setup_seconds = 1.5;
    later->migration.setup_seconds = 7;
    cal = vb_placement_calibrate(at_calibration, (VbObservedMigration *) (void *) obs->data,
                                 obs->len);
    ck_assert(!cal->setup_measured);
    vb_placement_calibration_apply(inv, cal);
    ck_assert_double_eq_tol(vb_placement_estimate_seconds(inv, later, vm, a, b, VB_MOVE_LIVE),
                            4.0, 1e-9);
    /* A pair with no measurement takes the setup in force plus the nominal rate. */
    ck_assert_double_eq_tol(vb_placement_estimate_seconds(inv, later, vm, b, a, VB_MOVE_LIVE),
                            1.5 + 0.064, 1e-9);
}
END_TEST

Suite *placement_costs_tcases(Suite *suite);

Suite *
placement_costs_tcases(Suite *suite)
{
    TCase *tc = tcase_create("costs");

    tcase_add_loop_test(tc, test_calibrate, 0, G_N_ELEMENTS(calib_rows));
    tcase_add_test(tc, test_calibrate_newest);
    tcase_add_loop_test(tc, test_estimate_costs, 0, G_N_ELEMENTS(estimate_cost_rows));
    tcase_add_test(tc, test_calibrated_estimate);
    tcase_add_test(tc, test_calibrated_setup_goes_with_pairs);
    suite_add_tcase(suite, tc);
    return suite;
}
