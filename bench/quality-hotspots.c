/*
 * quality-hotspots.c: what a plan does to hotspots and to broken must rules.
 *
 * Hotspot: a host that counts (up, not excluded) with its load above the
 * policy's high_water on any metric, CPU, memory or disk, each against its
 * own capacity, whatever the metric's weight. For each generated pool and
 * policy the table gives the hotspots before the plan (plan->before), after
 * it (plan->after), those relieved (before, not after) and those the plan
 * creates (after, not before).
 *
 * Broken must rules: on a copy of each pool, every fourth host that counts
 * gets the label "ssd", and the policy gets up to three must anti-affinity
 * rules, each naming two guests that share a host, and up to three must
 * run-on ssd rules, each naming a guest on a host without the label. A rule
 * is kept only when one move repairs it: moving one of its guests to some
 * host of its pool passes vb_placement_check_plan() (the independent
 * checker, which knows every hard constraint and rule). After the plan
 * (applied with vb_placement_apply_plan()) each rule is evaluated again
 * here; the figure is how many remain broken although a repair exists.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bench/quality.h"

#define N_BROKEN 3 /* rules of each kind made broken */

typedef struct {
    guint counted;           /* hosts that count */
    guint before, after;     /* hotspot hosts */
    guint relieved, created; /* before and not after; after and not before */
    guint moves;
} Hotspots;

static gboolean
is_hot(const VbHostLoad *load, double high_water)
{
    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        if (load->load[m] > high_water)
            return TRUE;
    }
    return FALSE;
}

static Hotspots
count_hotspots(const VbInventory *inv, const VbPolicy *policy, const VbPlan *plan)
{
    Hotspots hs = { .moves = plan->moves->len };

    for (guint h = 0; h < inv->hosts->len; h++) {
        gboolean before = is_hot(&plan->before[h], policy->high_water);
        gboolean after = is_hot(&plan->after[h], policy->high_water);

        if (!vb_quality_host_counts(inv, policy, h))
            continue;
        hs.counted++;
        hs.before += before;
        hs.after += after;
        hs.relieved += before && !after;
        hs.created += after && !before;
    }
    return hs;
}

/* ------------------------------------------------------- broken rules */

static gboolean
vm_in_rule(const VbInventory *inv, const VbRule *rule, const VbVm *vm)
{
    if (rule->vms && g_strv_contains((const char *const *) rule->vms, vm->name))
        return TRUE;
    for (guint i = 0; rule->vm_labels && rule->vm_labels[i]; i++) {
        guint id;

        if (vb_strtab_lookup(inv->labels, rule->vm_labels[i], &id) && vb_bits_test(&vm->labels, id))
            return TRUE;
    }
    return FALSE;
}

static gboolean
host_labelled(const VbInventory *inv, const VbRule *rule, const VbHost *host)
{
    for (guint i = 0; rule->host_labels && rule->host_labels[i]; i++) {
        guint id;

        if (vb_strtab_lookup(inv->labels, rule->host_labels[i], &id) &&
            vb_bits_test(&host->labels, id))
            return TRUE;
    }
    return FALSE;
}

/* TRUE when @inv breaks @rule (written apart from placement/ on purpose). */
static gboolean
rule_broken(const VbInventory *inv, const VbRule *rule)
{
    gint first_host = -1;
    g_autoptr(GHashTable) hosts = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (guint v = 0; v < inv->vms->len; v++) {
        const VbVm *vm = vb_inventory_vm(inv, v);
        const VbHost *host = vb_inventory_host(inv, vm->host);

        if (!vm_in_rule(inv, rule, vm))
            continue;
        switch (rule->kind) {
        case VB_RULE_HOST_AFFINITY:
            if (!host_labelled(inv, rule, host))
                return TRUE;
            break;
        case VB_RULE_HOST_ANTI_AFFINITY:
            if (host_labelled(inv, rule, host))
                return TRUE;
            break;
        case VB_RULE_VM_ANTI_AFFINITY:
            if (!g_hash_table_add(hosts, GUINT_TO_POINTER(vm->host)))
                return TRUE;
            break;
        case VB_RULE_VM_AFFINITY:
            if (first_host >= 0 && (guint) first_host != vm->host)
                return TRUE;
            first_host = (gint) vm->host;
            break;
        default:
            break;
        }
    }
    return FALSE;
}

static gboolean
guest_candidate(const VbInventory *inv, const VbPolicy *policy, const VbVm *vm)
{
    return vm->state == VB_VM_STATE_RUNNING && !vb_vm_is_pinned(vm, NULL) &&
           vb_quality_host_counts(inv, policy, vm->host);
}

/* The YAML of the broken rules: anti-affinity pairs sharing a host and
 * run-on ssd guests on hosts without the label, each from another host. */
static char *
broken_rules_yaml(VbInventory *inv, const VbPolicy *policy)
{
    GString *y = g_string_new("rules:\n");
    guint anti = 0, run_on = 0, counted = 0;

    for (guint h = 0; h < inv->hosts->len; h++) {
        if (vb_quality_host_counts(inv, policy, h) && counted++ % 4 == 0)
            vb_host_add_label(inv, vb_inventory_host(inv, h), "ssd");
    }
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        const VbVm *found[2] = { NULL, NULL };
        guint id;
        gboolean ssd = vb_strtab_lookup(inv->labels, "ssd", &id) && vb_bits_test(&host->labels, id);

        for (guint i = 0; i < host->vms->len && !found[1]; i++) {
            const VbVm *vm = vb_inventory_vm(inv, g_array_index(host->vms, guint, i));

            if (guest_candidate(inv, policy, vm))
                found[found[0] ? 1 : 0] = vm;
        }
        if (found[1] && anti < N_BROKEN && h % 2 == 0)
            g_string_append_printf(y, "  - {name: apart-%u, type: anti-affinity, enforce: must, "
                                      "vms: [%s, %s]}\n", anti++, found[0]->name, found[1]->name);
        else if (found[0] && !ssd && run_on < N_BROKEN)
            g_string_append_printf(y, "  - {name: on-ssd-%u, type: run-on, enforce: must, "
                                      "vms: [%s], host_labels: [ssd]}\n", run_on++,
                                   found[0]->name);
    }
    return g_string_free(y, FALSE);
}

/* TRUE when moving one of @rule's guests to one host mends it and the
 * checker accepts the move under @policy. */
static gboolean
repair_exists(const VbInventory *inv, const VbPolicy *policy, const VbRule *rule)
{
    g_autoptr(GArray) moves = g_array_new(FALSE, TRUE, sizeof(VbMove));
    VbPlan plan = { .kind = VB_PLAN_REBALANCE, .moves = moves };

    for (guint v = 0; v < inv->vms->len; v++) {
        const VbVm *vm = vb_inventory_vm(inv, v);
        const VbPool *pool = vb_inventory_pool(inv, vb_inventory_host(inv, vm->host)->pool);

        if (!vm_in_rule(inv, rule, vm))
            continue;
        for (guint i = 0; i < pool->hosts->len; i++) {
            VbMove move = { .vm = v, .from = vm->host,
                            .to = g_array_index(pool->hosts, guint, i) };
            g_autoptr(VbInventory) after = NULL;

            g_array_set_size(moves, 0);
            g_array_append_val(moves, move);
            if (move.to == vm->host || !vb_placement_check_plan(inv, policy, &plan,
                                                                &(VbPlanOptions){ .now = 1 }, NULL))
                continue;
            after = vb_placement_apply_plan(inv, policy, &plan);
            if (!rule_broken(after, rule))
                return TRUE;
        }
    }
    return FALSE;
}

/* Loads the policy @base_yaml + the rules of @rules_yaml that a move can
 * mend; @ret_dropped gets how many could not be mended. */
static VbPolicy *
rules_policy(const VbInventory *inv, const char *rules_yaml, guint *ret_dropped)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) all = vb_policy_load_data(rules_yaml, strlen(rules_yaml), "broken-rules",
                                                  &error);
    GString *kept = g_string_new("rules:\n");
    VbPolicy *policy;

    if (!all)
        g_error("the broken rules do not load: %s", error->message);
    *ret_dropped = 0;
    for (guint r = 0; r < all->rules->len; r++) {
        const VbRule *rule = g_ptr_array_index(all->rules, r);
        g_autofree char *line = NULL;
        g_autofree char *vms = NULL;

        if (!rule_broken(inv, rule) || !repair_exists(inv, all, rule)) {
            ++*ret_dropped;
            continue;
        }
        vms = g_strjoinv(", ", rule->vms);
        line = g_strdup_printf("  - {name: %s, type: %s, enforce: must, vms: [%s]%s}\n",
                               rule->name, vb_rule_kind_names[rule->kind],
                               vms,
                               rule->kind == VB_RULE_HOST_AFFINITY ? ", host_labels: [ssd]" : "");
        g_string_append(kept, line);
    }
    if (kept->len == strlen("rules:\n"))
        g_string_assign(kept, "rules: []\n");
    policy = vb_policy_load_data(kept->str, kept->len, "broken-rules", &error);
    g_string_free(kept, TRUE);
    if (!policy)
        g_error("the kept rules do not load: %s", error->message);
    return policy;
}

/* ------------------------------------------------------- the table */

/* One policy's figures on one pool. */
typedef struct {
    Hotspots hs;
    char *stop;          /* the hotspot plan's stop reason */
    guint rules;         /* broken must rules a move can mend */
    guint dropped;       /* broken ones no single move mends (not counted) */
    guint rules_left;    /* of @rules, broken after the plan */
    guint rule_moves;    /* moves of the plan with the rules */
    char *rule_stop;     /* its stop reason */
} HotspotRun;

static HotspotRun
hotspot_run(const VbInventory *inv, guint budget, guint cooldown)
{
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(VbInventory) labelled = vb_inventory_copy(inv);
    g_autofree char *yaml = NULL;
    g_autoptr(VbPolicy) rules = NULL;
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbPlan) rule_plan = NULL;
    g_autoptr(VbInventory) after = NULL;
    HotspotRun run = { 0 };

    policy->max_migrations = budget;
    policy->cooldown_seconds = cooldown;
    plan = vb_quality_rebalance(inv, policy, 2000000000, 0);
    run.hs = count_hotspots(inv, policy, plan);
    run.stop = g_strdup(plan->stop_reason ? plan->stop_reason : "-");

    yaml = broken_rules_yaml(labelled, policy);
    rules = rules_policy(labelled, yaml, &run.dropped);
    rules->max_migrations = budget;
    rules->cooldown_seconds = cooldown;
    run.rules = rules->rules->len;
    rule_plan = vb_quality_rebalance(labelled, rules, 2000000000, 0);
    after = vb_placement_apply_plan(labelled, rules, rule_plan);
    for (guint r = 0; r < rules->rules->len; r++)
        run.rules_left += rule_broken(after, g_ptr_array_index(rules->rules, r));
    run.rule_moves = rule_plan->moves->len;
    run.rule_stop = g_strdup(rule_plan->stop_reason ? rule_plan->stop_reason : "-");
    return run;
}

#define HOT_ROW(label, fmt, ...)                                                               \
    do {                                                                                       \
        printf("| %s |", label);                                                               \
        for (guint q = 0; q < 2; q++) {                                                        \
            const HotspotRun *r = &runs[q];                                                    \
            printf(" " fmt " |", __VA_ARGS__);                                                 \
        }                                                                                      \
        printf("\n");                                                                          \
    } while (0)

void
vb_quality_hotspot_section(const VbQualityPool *pools, guint n_pools)
{
    g_autoptr(VbPolicy) defaults = vb_policy_new_default();

    printf("\n### Hotspots and broken must rules\n\n");
    printf("Hotspot: a host (up, not excluded) above high_water %.2f on CPU, memory or disk. "
           "Columns: the defaults (budget %u moves), and the defaults run to the end (budget "
           "10000, no cooldown). Rules: up to %u must anti-affinity pairs sharing a host and %u "
           "must run-on ssd guests off ssd hosts (every 4th host labelled ssd), each kept only "
           "when one move the checker accepts mends it. Targets (issue 8): 0 created, 0 left "
           "where moves remove them, 0 must violations left where a repair exists.\n",
           defaults->high_water, defaults->max_migrations, N_BROKEN, N_BROKEN);
    for (guint p = 0; p < n_pools; p++) {
        g_autoptr(VbInventory) inv = vb_quality_generate(&pools[p]);
        g_autofree char *label = vb_quality_pool_label(&pools[p]);
        HotspotRun runs[2] = { hotspot_run(inv, defaults->max_migrations,
                                           defaults->cooldown_seconds),
                               hotspot_run(inv, 10000, 0) };

        printf("\n#### %s\n\n| figure | defaults | to the end |\n|---|---:|---:|\n", label);
        HOT_ROW("hosts that count", "%u", r->hs.counted);
        HOT_ROW("moves", "%u", r->hs.moves);
        HOT_ROW("hotspots before -> after", "%u -> %u", r->hs.before, r->hs.after);
        HOT_ROW("hotspots relieved", "%u", r->hs.relieved);
        HOT_ROW("hotspots created by the plan", "%u", r->hs.created);
        HOT_ROW("stop reason", "%s", r->stop);
        HOT_ROW("broken must rules a move can mend (not mendable, left out)", "%u (%u)",
                r->rules, r->dropped);
        HOT_ROW("of these, still broken after the plan", "%u", r->rules_left);
        HOT_ROW("moves, stop reason of that plan", "%u, %s", r->rule_moves, r->rule_stop);
        for (guint q = 0; q < 2; q++) {
            g_free(runs[q].stop);
            g_free(runs[q].rule_stop);
        }
        fflush(stdout);
    }
}
