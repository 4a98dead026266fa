/*
 * quality-optimum.c: how far the planner's highest host memory utilisation
 * is from the best any K moves can reach, by integer programming.
 *
 * For a pool, a memory-only policy and a move count K, the mixed-integer
 * program has one binary x[v,h] per movable guest v and allowed destination
 * h (1: v ends on h), and a continuous t, the highest memory load:
 *   minimise t
 *   sum_h x[v,h] <= 1                            each guest moves at most once
 *   sum x <= K                                   at most K moves
 *   (used_h + sum_in m_v x - sum_out m_v x) / memory_h <= t   every host that counts
 *   sum_in m_v x - sum_out m_v x <= max(0, memory_h - reserve_h - used_h)
 *   sum_in vcpus x - sum_out vcpus x <= max(0, cores_h * overcommit - vcpus_h)
 *   sum_in copied_v x - sum_out local_v x <= storage_free_h   (hosts that copy disks)
 * A guest is movable when it is on a host that counts (up, not excluded),
 * runs or is paused (a shut-off guest loads no memory; moving it cannot lower
 * the maximum), is not pinned, not excluded and not in its cooldown. An arc
 * v->h exists when h counts, is in v's pool, runs the same hypervisor and
 * CPU vendor and has every CPU feature v needs.
 *
 * What is modelled: pool membership, host state and exclusion, hypervisor,
 * CPU vendor and features, pinned and excluded guests, cooldown, memory after
 * the reserve, vCPUs under the overcommit, storage for copied disks. What is
 * relaxed: the order of the moves (capacities hold at the end, not at every
 * step, so a swap that needs a free slot first counts), the source's 2x
 * storage rule, the destination's 3x (only the end state must fit), rules
 * (the memory-only policy has none) and cross-pool moves (it allows none).
 * Each relaxation can only lower the optimum, so planner / optimum is an
 * upper bound of the true ratio.
 *
 * The program is written in CPLEX LP format and solved by `cbc` (Debian
 * package coinor-cbc, optional); the solution's moves are replayed here and
 * the maximum recomputed, so the figure does not rest on cbc's arithmetic.
 * With a time limit cbc may stop before proving optimality: the table then
 * shows the best plan found and cbc's lower bound, and the ratio to the bound.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/quality.h"

typedef struct {
    guint vm, to;
} Arc;

typedef struct {
    gboolean solved;  /* cbc found a solution */
    gboolean optimal; /* ...and proved it optimal */
    double best;      /* highest memory load of its solution, recomputed */
    double bound;     /* cbc's lower bound (= best when optimal) */
    guint moves;      /* moves in its solution */
    double seconds;   /* wall time of cbc */
    char *status;     /* cbc's first line when not optimal, else NULL */
} Optimum;

/* The memory-only policy: the defaults with only memory weighed, a budget
 * that lets rebalance run to the end, no cooldown. */
static VbPolicy *
memory_policy(void)
{
    VbPolicy *policy = vb_policy_new_default();

    policy->weights[VB_METRIC_CPU] = 0;
    policy->weights[VB_METRIC_MEMORY] = 1;
    policy->weights[VB_METRIC_DISK] = 0;
    policy->max_migrations = 10000;
    policy->cooldown_seconds = 0;
    return policy;
}

static gboolean
guest_movable(const VbInventory *inv, const VbPolicy *policy, const VbVm *vm, gint64 now)
{
    if (!vb_quality_host_counts(inv, policy, vm->host) || vm->state == VB_VM_STATE_SHUTOFF ||
        vb_vm_is_pinned(vm, NULL))
        return FALSE;
    if (policy->exclude_vms && g_strv_contains((const char *const *) policy->exclude_vms, vm->name))
        return FALSE;
    for (guint i = 0; policy->exclude_vm_labels && policy->exclude_vm_labels[i]; i++) {
        guint id;

        if (vb_strtab_lookup(inv->labels, policy->exclude_vm_labels[i], &id) &&
            vb_bits_test(&vm->labels, id))
            return FALSE;
    }
    return !(vm->last_migrated > 0 && now - vm->last_migrated < (gint64) policy->cooldown_seconds);
}

/* GiB copied when @vm moves inside its pool, and what its host gets back. */
static double
copied_gib(const VbInventory *inv, const VbVm *vm)
{
    const VbPool *pool = vb_inventory_pool(inv, vb_inventory_host(inv, vm->host)->pool);

    return pool->shared_storage ? vb_vm_local_disk_gib(vm) : vb_vm_disk_gib(vm);
}

static gboolean
arc_allowed(const VbInventory *inv, const VbPolicy *policy, const VbVm *vm, const VbHost *to)
{
    const VbHost *from = vb_inventory_host(inv, vm->host);

    return to->id != from->id && vb_quality_host_counts(inv, policy, to->id) &&
           to->pool == from->pool && g_strcmp0(to->hypervisor, from->hypervisor) == 0 &&
           g_strcmp0(to->cpu_vendor, from->cpu_vendor) == 0 &&
           vb_bits_is_subset(&vm->cpu_features, &to->cpu_features);
}

static GArray *
build_arcs(const VbInventory *inv, const VbPolicy *policy, gint64 now)
{
    GArray *arcs = g_array_new(FALSE, FALSE, sizeof(Arc));

    for (guint v = 0; v < inv->vms->len; v++) {
        const VbVm *vm = vb_inventory_vm(inv, v);
        const VbPool *pool;

        if (!guest_movable(inv, policy, vm, now))
            continue;
        pool = vb_inventory_pool(inv, vb_inventory_host(inv, vm->host)->pool);
        for (guint i = 0; i < pool->hosts->len; i++) {
            const VbHost *to = vb_inventory_host(inv, g_array_index(pool->hosts, guint, i));

            if (arc_allowed(inv, policy, vm, to))
                g_array_append_val(arcs, ((Arc){ .vm = v, .to = to->id }));
        }
    }
    return arcs;
}

/* ------------------------------------------------------- the LP file */

/* One row per host: the terms of arcs arriving (+) and leaving (-), with
 * the per-arc quantity @what (0 memory load, 1 MiB, 2 vCPUs, 3 GiB). */
static void
write_host_terms(GString *lp, const VbInventory *inv, const GArray *arcs, guint h, int what)
{
    const VbHost *host = vb_inventory_host(inv, h);
    guint n = 0;

    for (guint a = 0; a < arcs->len; a++) {
        const Arc *arc = &g_array_index(arcs, Arc, a);
        const VbVm *vm = vb_inventory_vm(inv, arc->vm);
        double q;
        int sign = arc->to == h ? 1 : vm->host == h ? -1 : 0;

        if (sign == 0)
            continue;
        q = what == 0   ? (double) vm->memory_mib / (double) host->memory_mib
            : what == 1 ? (double) vm->memory_mib
            : what == 2 ? (double) vm->vcpus
                        : copied_gib(inv, vm); /* inside the pool: copied = given back */
        if (q == 0)
            continue;
        g_string_append_printf(lp, " %c %.12g x%u%s", sign > 0 ? '+' : '-', q, a,
                               ++n % 8 == 0 ? "\n" : "");
    }
    if (n == 0)
        g_string_append(lp, " 0 x0");
}

/* The planner's rule "no move pushes a host above high_water", at the end
 * state (order relaxed): a host at or under it stays so, a host above it
 * gains nothing. */
static void
write_high_water_row(GString *lp, const VbInventory *inv, const VbPolicy *policy,
                     const GArray *arcs, guint h)
{
    const VbHost *host = vb_inventory_host(inv, h);
    double load = (double) host->memory_used_mib / (double) host->memory_mib;

    g_string_append_printf(lp, " w%u:", h);
    write_host_terms(lp, inv, arcs, h, 0);
    g_string_append_printf(lp, " <= %.12g\n", MAX(0.0, policy->high_water - load));
}

static void
write_host_rows(GString *lp, const VbInventory *inv, const VbPolicy *policy, const GArray *arcs,
                gboolean high_water)
{
    const VbHostTotals *totals = vb_inventory_host_totals(inv);

    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        double used = (double) MAX(host->memory_used_mib, totals[h].memory_mib);
        double reserve = (double) vb_policy_memory_reserve_mib(policy, host->memory_mib);
        double vroom = host->cpu_cores * policy->cpu_overcommit - vb_host_allocated_vcpus(inv, host);

        if (!vb_quality_host_counts(inv, policy, h) || host->memory_mib == 0)
            continue;
        g_string_append_printf(lp, " l%u:", h);
        write_host_terms(lp, inv, arcs, h, 0);
        g_string_append_printf(lp, " - t <= %.12g\n",
                               -(double) host->memory_used_mib / (double) host->memory_mib);
        g_string_append_printf(lp, " m%u:", h);
        write_host_terms(lp, inv, arcs, h, 1);
        g_string_append_printf(lp, " <= %.12g\n", MAX(0.0, host->memory_mib - reserve - used));
        g_string_append_printf(lp, " c%u:", h);
        write_host_terms(lp, inv, arcs, h, 2);
        g_string_append_printf(lp, " <= %.12g\n", MAX(0.0, vroom));
        g_string_append_printf(lp, " s%u:", h);
        write_host_terms(lp, inv, arcs, h, 3);
        g_string_append_printf(lp, " <= %.12g\n", MAX(0.0, host->storage_free_gib));
        if (high_water)
            write_high_water_row(lp, inv, policy, arcs, h);
    }
}

static char *
write_lp(const VbInventory *inv, const VbPolicy *policy, const GArray *arcs, guint k,
         gboolean high_water)
{
    GString *lp = g_string_new("\\ virt-balancer vb-quality: lowest highest memory load\n");
    gint last_vm = -1;

    g_string_append(lp, "Minimize\n obj: t\nSubject To\n k:");
    for (guint a = 0; a < arcs->len; a++)
        g_string_append_printf(lp, " + x%u%s", a, (a + 1) % 12 == 0 ? "\n" : "");
    g_string_append_printf(lp, "%s <= %u\n", arcs->len ? "" : " 0 x0", k);
    for (guint a = 0; a < arcs->len; a++) {
        const Arc *arc = &g_array_index(arcs, Arc, a);

        if ((gint) arc->vm != last_vm)
            g_string_append_printf(lp, "%s g%u:", last_vm >= 0 ? " <= 1\n" : "", arc->vm);
        g_string_append_printf(lp, " + x%u", a);
        last_vm = arc->vm;
    }
    if (last_vm >= 0)
        g_string_append(lp, " <= 1\n");
    write_host_rows(lp, inv, policy, arcs, high_water);
    g_string_append(lp, "Bounds\n 0 <= t <= 100\n");
    if (arcs->len == 0)
        g_string_append(lp, " 0 <= x0 <= 0\n");
    g_string_append(lp, "Binaries\n");
    for (guint a = 0; a < MAX(arcs->len, 1); a++)
        g_string_append_printf(lp, " x%u%s", a, (a + 1) % 12 == 0 ? "\n" : "");
    g_string_append(lp, "\nEnd\n");
    return g_string_free(lp, FALSE);
}

/* ------------------------------------------------------- solving */

/* The highest memory load over the hosts that count once the arcs with
 * @chosen set are applied: what the solution means, recomputed here. */
static double
replay_max(const VbInventory *inv, const VbPolicy *policy, const GArray *arcs,
           const gboolean *chosen)
{
    g_autofree double *used = g_new0(double, MAX(inv->hosts->len, 1));
    double best = 0;

    for (guint h = 0; h < inv->hosts->len; h++)
        used[h] = (double) vb_inventory_host(inv, h)->memory_used_mib;
    for (guint a = 0; a < arcs->len; a++) {
        const Arc *arc = &g_array_index(arcs, Arc, a);
        const VbVm *vm = vb_inventory_vm(inv, arc->vm);

        if (!chosen[a])
            continue;
        used[vm->host] -= (double) vm->memory_mib;
        used[arc->to] += (double) vm->memory_mib;
    }
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);

        if (vb_quality_host_counts(inv, policy, h) && host->memory_mib > 0)
            best = MAX(best, used[h] / (double) host->memory_mib);
    }
    return best;
}

/* Reads cbc's solution file: its status line, then "index name value
 * reduced-cost" per column. Sets chosen[a] for every x<a> at 1. */
static gboolean
read_solution(const char *path, guint n_arcs, gboolean *chosen, char **ret_status,
              GError **error)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(path, &text, NULL, error))
        return FALSE;
    lines = g_strsplit(text, "\n", -1);
    *ret_status = g_strdup(lines[0] ? g_strstrip(lines[0]) : "");
    for (guint i = 1; lines[i]; i++) {
        guint index, a;
        char name[64];
        double value;

        if (sscanf(lines[i], "%u %63s %lf", &index, name, &value) == 3 && name[0] == 'x' &&
            sscanf(name + 1, "%u", &a) == 1 && a < n_arcs && value > 0.5)
            chosen[a] = TRUE;
    }
    return TRUE;
}

/* cbc's "Lower bound:" line when it stopped early, else @fallback. */
static double
lower_bound(const char *out, double fallback)
{
    const char *p = out ? strstr(out, "Lower bound:") : NULL;

    return p ? g_ascii_strtod(p + strlen("Lower bound:"), NULL) : fallback;
}

static gboolean
solve(const VbInventory *inv, const VbPolicy *policy, guint k, gboolean high_water,
      const VbOptimumOptions *opts, Optimum *ret, GError **error)
{
    g_autoptr(GArray) arcs = build_arcs(inv, policy, 0);
    g_autofree char *lp = write_lp(inv, policy, arcs, k, high_water);
    g_autofree char *lp_path = g_build_filename(opts->workdir, "optimum.lp", NULL);
    g_autofree char *sol_path = g_build_filename(opts->workdir, "optimum.sol", NULL);
    g_autofree char *sec = g_strdup_printf("%u", opts->seconds);
    g_autofree char *out = NULL;
    g_autofree gboolean *chosen = g_new0(gboolean, MAX(arcs->len, 1));
    const char *argv[] = { opts->cbc, lp_path, "-sec", sec, "-solve", "-solu", sol_path, NULL };
    gint64 start = g_get_monotonic_time();
    gint status;

    g_unlink(sol_path);
    if (!g_file_set_contents(lp_path, lp, -1, error) ||
        !g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                      NULL, &status, error))
        return FALSE;
    ret->seconds = (g_get_monotonic_time() - start) / 1e6;
    if (!g_spawn_check_wait_status(status, error) ||
        !read_solution(sol_path, arcs->len, chosen, &ret->status, error))
        return FALSE;
    ret->solved = g_str_has_prefix(ret->status, "Optimal") ||
                  strstr(ret->status, "objective value") != NULL;
    ret->optimal = g_str_has_prefix(ret->status, "Optimal");
    ret->best = replay_max(inv, policy, arcs, chosen);
    ret->bound = ret->optimal ? ret->best : lower_bound(out, 0);
    ret->moves = 0;
    for (guint a = 0; a < arcs->len; a++)
        ret->moves += chosen[a];
    if (ret->optimal)
        g_clear_pointer(&ret->status, g_free);
    return TRUE;
}

/* ------------------------------------------------------- the table */

static void
optimum_row(const VbQualityPool *qp, const VbInventory *inv, const VbPolicy *policy, guint k,
            const VbOptimumOptions *opts)
{
    g_autoptr(VbPlan) plan = vb_quality_rebalance(inv, policy, 2000000000, k);
    g_autofree char *label = vb_quality_pool_label(qp);
    guint kk = k ? k : plan->moves->len;
    double before = vb_quality_max_memory(inv, policy, plan->before);
    double after = vb_quality_max_memory(inv, policy, plan->after);

    printf("| %s | %u%s | %u | %.4f | %.4f |", label, kk, k ? "" : " (planner's own)",
           plan->moves->len, before, after);
    /* The plain optimum, then the one that keeps the planner's high-water rule. */
    for (int hw = 0; hw <= 1; hw++) {
        g_autoptr(GError) error = NULL;
        Optimum opt = { 0 };

        if (!solve(inv, policy, kk, hw, opts, &opt, &error)) {
            printf(" cbc failed: %s | | |", error->message);
            continue;
        }
        if (opt.optimal)
            printf(" %.4f (%u moves) | %.3fx | optimal, %.1f s |", opt.best, opt.moves,
                   opt.best > 0 ? after / opt.best : 0.0, opt.seconds);
        else
            printf(" %.4f (%u moves), bound %.4f | %.3fx (%.3fx to the bound) | %s, %.1f s |",
                   opt.best, opt.moves, opt.bound, opt.best > 0 ? after / opt.best : 0.0,
                   opt.bound > 0 ? after / opt.bound : 0.0, opt.status, opt.seconds);
        g_free(opt.status);
    }
    printf("\n");
    fflush(stdout);
}

void
vb_quality_optimum_section(const VbQualityPool *pools, guint n_pools,
                           const VbOptimumOptions *opts)
{
    g_autoptr(VbPolicy) policy = memory_policy();

    printf("\n### Highest memory utilisation against the optimum (memory-only policy)\n\n");
    if (!opts->cbc) {
        printf("optimum: skipped (cbc not installed)\n");
        return;
    }
    printf("Policy: the defaults with weights cpu 0, memory 1, disk 0; budget K moves; no "
           "cooldown. Optimum: cbc (%s), %u s per solve; the MIP models pool, host state, "
           "hypervisor, CPU vendor and features, pinned guests, memory after the reserve, "
           "vCPU overcommit and copied-disk storage at the end state (move order relaxed). "
           "It is solved twice: as is, and with the planner's rule that no move pushes a host "
           "above high_water %.2f (a host at or under it ends at or under it, a host above it "
           "gains nothing), the fair comparison for the planner.\n\n",
           opts->cbc, opts->seconds, policy->high_water);
    printf("| pool | K | planner moves | max memory before | planner after K | optimum for K | "
           "planner / optimum (target <= 1.05x) | cbc | optimum under the high-water rule | "
           "planner / that | cbc |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|\n");
    fflush(stdout);
    for (guint p = 0; p < n_pools; p++) {
        g_autoptr(VbInventory) inv = vb_quality_generate(&pools[p]);

        for (guint i = 0; i < opts->n_ks; i++)
            optimum_row(&pools[p], inv, policy, opts->ks[i], opts);
    }
}
