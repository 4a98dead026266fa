/*
 * placement-ranking.c: the order of a `place` ranking, checked against a
 * plain comparison sort.
 *
 * place.c sorts the hosts that can take the guest with a radix sort on the
 * high half of each score's bits and puts runs of equal high halves in
 * order by the whole score (insertion sort, or qsort for runs longer than
 * 32). Scores that close come from hosts whose loads differ by a few
 * millionths: here, hosts of a huge memory whose used memory differs by a
 * MiB, in a shuffled order, in runs of every length the sort treats apart.
 */
#include "config.h"

#include "tests/placement-testlib.h"

/* hosts in one run of near-equal scores; equal: how many share one exact score */
static const struct {
    guint hosts;
    guint equal;
} run_rows[] = {
    { 1, 1 }, { 5, 1 }, { 32, 1 }, { 33, 1 }, { 200, 1 }, { 200, 4 }, { 1000, 1 },
};

/* Hosts of 2^40 MiB of memory whose used memory differs by a MiB per rank,
 * shuffled by a multiplier prime to @n, plus one host that is down and one
 * too small for the guest (refused: they go last, in host id order). */
static VbInventory *
near_tie_inventory(guint n, guint equal)
{
    VbInventory *inv = vb_inventory_new();
    VbPool *pool = vb_inventory_add_pool(inv, "p", NULL);

    for (guint i = 0; i < n + 2; i++) {
        g_autofree char *name = g_strdup_printf("h%04u", i);
        VbHost *h = vb_inventory_add_host(inv, pool, name, NULL);
        guint rank = (i * 7919u) % MAX(n, 1);

        h->cpu_cores = 64;
        h->memory_mib = G_GUINT64_CONSTANT(1) << 40;
        h->memory_used_mib = (G_GUINT64_CONSTANT(1) << 38) + rank / equal;
        h->storage_total_gib = h->storage_free_gib = 1000;
        h->cpu_usage = 0.25;
        if (i == n)
            h->state = VB_HOST_STATE_DOWN;
        if (i == n + 1)
            h->memory_mib = 512;
    }
    return inv;
}

static int
cmp_reference(const void *a, const void *b)
{
    const VbPlacement *x = a, *y = b;

    if ((x->stars > 0) != (y->stars > 0))
        return x->stars > 0 ? -1 : 1;
    if (x->stars > 0 && x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->host < y->host ? -1 : x->host > y->host;
}

/* @ranking is in the reference order, and holds every host once. */
static void
assert_reference_order(const VbInventory *inv, const VbRanking *ranking)
{
    guint n = ranking->hosts->len;
    g_autofree VbPlacement *sorted = g_memdup2(ranking->hosts->data, sizeof(VbPlacement) * n);
    g_autofree gboolean *seen = g_new0(gboolean, MAX(inv->hosts->len, 1));

    ck_assert_uint_eq(n, inv->hosts->len);
    qsort(sorted, n, sizeof(VbPlacement), cmp_reference);
    for (guint i = 0; i < n; i++) {
        const VbPlacement *p = &g_array_index(ranking->hosts, VbPlacement, i);

        ck_assert_msg(!seen[p->host], "host %u twice", p->host);
        seen[p->host] = TRUE;
        ck_assert_msg(p->host == sorted[i].host,
                      "rank %u: host %u (score %.17g), the reference has host %u (%.17g)", i,
                      p->host, p->score, sorted[i].host, sorted[i].score);
    }
}

START_TEST(test_ranking_near_ties)
{
    g_autoptr(VbInventory) inv = near_tie_inventory(run_rows[_i].hosts, run_rows[_i].equal);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    VbVmSpec spec = { .name = (char *) "new", .vcpus = 1, .memory_mib = 1024, .cpu_usage = 0.5 };
    g_autoptr(GError) error = NULL;
    g_autoptr(VbRanking) ranking = vb_placement_place(inv, policy, &spec, &error);
    guint fit = 0;

    ck_assert_msg(ranking != NULL, "%s", error ? error->message : "");
    for (guint i = 0; i < ranking->hosts->len; i++)
        fit += g_array_index(ranking->hosts, VbPlacement, i).stars > 0;
    ck_assert_uint_eq(fit, run_rows[_i].hosts);
    assert_reference_order(inv, ranking);
}
END_TEST

/* Generated pools of a few sizes and seeds: mixed hosts, some refused. */
START_TEST(test_ranking_generated)
{
    VbGenerateParams params;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    VbVmSpec spec = { .name = (char *) "new", .vcpus = 4, .memory_mib = 8192, .cpu_usage = 0.5 };
    g_autoptr(VbRanking) ranking = NULL;

    vb_generate_params_init(&params);
    params.seed = 100 + _i;
    params.n_hosts = 20 + 150 * _i;
    params.n_vms = params.n_hosts * 15;
    params.n_pools = 1 + _i % 3;
    inv = vb_inventory_generate(&params);
    ranking = vb_placement_place(inv, policy, &spec, NULL);
    ck_assert(ranking != NULL);
    assert_reference_order(inv, ranking);
}
END_TEST

Suite *placement_ranking_tcases(Suite *suite);

Suite *
placement_ranking_tcases(Suite *suite)
{
    TCase *tc = tcase_create("ranking");

    tcase_add_loop_test(tc, test_ranking_near_ties, 0, G_N_ELEMENTS(run_rows));
    tcase_add_loop_test(tc, test_ranking_generated, 0, 6);
    suite_add_tcase(suite, tc);
    return suite;
}
