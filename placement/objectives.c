/*
 * objectives.c: what every planner answers for, before the goal itself:
 * the must rules the placement breaks, the hosts above high_water, and the
 * plan's report of both (before, after, and why what remains remains).
 *
 * A host is hot when one of its watched metrics (weight > 0 in the policy,
 * each measured against its own capacity) is above high_water; a metric the
 * policy does not weigh is not watched. A rule is broken when: run-on, a
 * member sits on a host without the labels; avoid, on a host with them;
 * anti-affinity, two members share a host; affinity, members are on more
 * than one host. Should rules are reported the same way and weigh their
 * `weight` each (what breaking one costs and mending one earns).
 *
 * The planners leave a note per rule and per host when they cannot mend or
 * relieve it; vb_plan_finish() turns the notes into the plan's violations,
 * hotspots and stop reason. "target met" is only said when no must rule is
 * broken, no host is hot and the goal is met.
 *
 * Cost: O(rule members) per violation census, O(hosts) per report.
 */
#include "config.h"

#include <math.h>

#include "placement/placement-priv.h"

void
vb_violation_free(VbViolation *v)
{
    if (!v)
        return;
    if (v->vms)
        g_array_unref(v->vms);
    if (v->hosts)
        g_array_unref(v->hosts);
    g_free(v->reason);
    g_free(v);
}

void
vb_hotspot_free(VbHotspot *h)
{
    if (!h)
        return;
    g_free(h->reason);
    g_free(h);
}

/* Load @vm brings to @to on metric @m: its share, or, for a shut-off guest
 * the move starts, what it will use running. */
static double
arrival_share(const VbState *st, guint vm, guint to, VbMetric m)
{
    const VbVm *v = vb_inventory_vm(st->inv, vm);
    double cap = st->cap[to * VB_METRIC_LAST + m];

    if (m == VB_METRIC_DISK || !vb_vm_started_by_move(st->policy, v) || cap <= 0)
        return vb_state_metric_share(st, vm, to, m);
    if (m == VB_METRIC_MEMORY)
        return (double) v->memory_mib / cap;
    return (st->policy->load_source == VB_LOAD_ALLOCATED ? v->vcpus : v->vcpus * v->cpu_usage) /
           cap;
}

gboolean
vb_state_fits_under_high_water(const VbState *st, guint vm, guint to)
{
    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        if (st->weight[m] > 0 &&
            st->load[to].load[m] + arrival_share(st, vm, to, m) > st->policy->high_water)
            return FALSE;
    }
    return TRUE;
}

double
vb_state_hot_excess(const VbState *st, guint host)
{
    double excess = 0;

    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        if (st->weight[m] > 0 && st->load[host].load[m] > st->policy->high_water)
            excess += st->load[host].load[m] - st->policy->high_water;
    }
    return excess;
}

void
vb_state_note_rule(VbState *st, guint r, char *text)
{
    g_free(st->rule_note[r]);
    st->rule_note[r] = text;
}

void
vb_state_note_host(VbState *st, guint h, char *text)
{
    g_free(st->host_note[h]);
    st->host_note[h] = text;
}

double
vb_state_move_seconds(const VbState *st, guint vm, guint to)
{
    const VbInventory *inv = st->inv;

    return vb_placement_estimate_seconds(inv, st->policy, vb_inventory_vm(inv, vm),
                                         vb_inventory_host(inv, st->vm_host[vm]),
                                         vb_inventory_host(inv, to),
                                         vb_state_move_kind(st, vm, to));
}

double
vb_state_move_cost(const VbState *st, guint vm, guint to)
{
    if (st->policy->cost_per_minute <= 0)
        return 0;
    return st->policy->cost_per_minute * vb_state_move_seconds(st, vm, to) / 60.0;
}

double
vb_state_total_imbalance(const VbState *st)
{
    double dev = 0;
    guint n = 0;

    for (guint p = 0; p < st->n_pools; p++) {
        const VbPoolOrder *po = &st->pools[p];

        if (po->n == 0)
            continue;
        dev += MAX(0.0, po->sum_sq - po->sum * po->sum / po->n);
        n += po->n;
    }
    return n > 0 ? sqrt(dev / n) : 0.0;
}

void
vb_state_add_move(VbState *st, VbPlan *plan, guint vm, guint to, char *reason)
{
    double before = vb_state_total_imbalance(st);

    vb_plan_add_move(plan, st, vm, to, 0, reason);
    vb_state_apply(st, vm, to);
    g_array_index(plan->moves, VbMove, plan->moves->len - 1).gain =
        before - vb_state_total_imbalance(st);
}

/* ------------------------------------------------------------- noise */

/* Variance one guest adds to @host's weighted load: its CPU demand
 * fluctuating by cpu_noise (memory and disk are taken as steady). A host's
 * noise starts at the larger of its guests' sum and what the collectors
 * measured (VbHost.cpu_stddev over the window); moves then add and take
 * away their guests' terms. */
static double
guest_noise_var(const VbState *st, guint vm, guint host)
{
    double s = st->policy->cpu_noise * st->weight[VB_METRIC_CPU] *
               vb_state_metric_share(st, vm, host, VB_METRIC_CPU);

    return s * s;
}

void
vb_state_init_noise(VbState *st)
{
    if (st->policy->load_source != VB_LOAD_MEASURED)
        return; /* allocated load does not fluctuate */
    st->noise_var = g_new0(double, MAX(st->n_hosts, 1));
    for (guint v = 0; v < st->n_vms; v++)
        st->noise_var[st->vm_host[v]] += guest_noise_var(st, v, st->vm_host[v]);
    for (guint h = 0; h < st->n_hosts; h++) {
        double measured = st->weight[VB_METRIC_CPU] * vb_inventory_host(st->inv, h)->cpu_stddev;

        st->noise_var[h] = MAX(st->noise_var[h], measured * measured);
    }
}

/* Keeps the noise model in step with a move of @vm from @from to @to. */
void
vb_state_noise_move(VbState *st, guint vm, guint from, guint to)
{
    if (!st->noise_var)
        return;
    st->noise_var[from] = MAX(0.0, st->noise_var[from] - guest_noise_var(st, vm, from));
    st->noise_var[to] += guest_noise_var(st, vm, to);
}

double
vb_state_noise(const VbState *st, guint host)
{
    return st->noise_var ? sqrt(st->noise_var[host]) : 0.0;
}

/* ------------------------------------------------------------- census */

static VbViolation *
violation_new(guint rule)
{
    VbViolation *v = g_new0(VbViolation, 1);

    v->rule = rule;
    v->vms = g_array_new(FALSE, FALSE, sizeof(guint));
    v->hosts = g_array_new(FALSE, FALSE, sizeof(guint));
    return v;
}

static void
add_unique(GArray *array, guint value)
{
    for (guint i = 0; i < array->len; i++) {
        if (g_array_index(array, guint, i) == value)
            return;
    }
    g_array_append_val(array, value);
}

/* Host rules: one violation per member on a wrong host. */
static void
census_host_rule(const VbState *st, guint r, GPtrArray *out)
{
    const VbRuleRef *ref = &st->rules[r];
    gboolean run_on = ref->rule->kind == VB_RULE_HOST_AFFINITY;

    for (guint i = 0; i < ref->members->len; i++) {
        guint vm = g_array_index(ref->members, guint, i);
        guint host = st->vm_host[vm];
        const VbHost *h = vb_inventory_host(st->inv, host);
        VbViolation *v;

        if (vb_bits_intersects(&h->labels, &ref->host_labels) == run_on)
            continue;
        v = violation_new(r);
        g_array_append_val(v->vms, vm);
        g_array_append_val(v->hosts, host);
        g_ptr_array_add(out, v);
    }
}

/* Anti-affinity: one violation per host holding two members or more. */
static void
census_apart(const VbState *st, guint r, GPtrArray *out)
{
    const VbRuleRef *ref = &st->rules[r];
    g_autoptr(GHashTable) by_host = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (guint i = 0; i < ref->members->len; i++) {
        guint vm = g_array_index(ref->members, guint, i);
        guint host = st->vm_host[vm];
        VbViolation *v;

        if (vb_state_rule_count(st, r, host) < 2)
            continue;
        v = g_hash_table_lookup(by_host, GUINT_TO_POINTER(host + 1));
        if (!v) {
            v = violation_new(r);
            g_array_append_val(v->hosts, host);
            g_hash_table_insert(by_host, GUINT_TO_POINTER(host + 1), v);
            g_ptr_array_add(out, v);
        }
        g_array_append_val(v->vms, vm);
    }
}

/* Affinity: one violation when the members are on more than one host. */
static void
census_together(const VbState *st, guint r, GPtrArray *out)
{
    const VbRuleRef *ref = &st->rules[r];
    VbViolation *v;

    if (ref->members->len < 2)
        return;
    v = violation_new(r);
    for (guint i = 0; i < ref->members->len; i++) {
        guint vm = g_array_index(ref->members, guint, i);

        g_array_append_val(v->vms, vm);
        add_unique(v->hosts, st->vm_host[vm]);
    }
    if (v->hosts->len > 1)
        g_ptr_array_add(out, v);
    else
        vb_violation_free(v);
}

GPtrArray *
vb_state_violations(const VbState *st, gboolean hard)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) vb_violation_free);

    for (guint r = 0; r < st->n_rules; r++) {
        if (st->rules[r].rule->hard != hard)
            continue;
        switch (st->rules[r].rule->kind) {
        case VB_RULE_HOST_AFFINITY:
        case VB_RULE_HOST_ANTI_AFFINITY:
            census_host_rule(st, r, out);
            break;
        case VB_RULE_VM_ANTI_AFFINITY:
            census_apart(st, r, out);
            break;
        case VB_RULE_VM_AFFINITY:
            census_together(st, r, out);
            break;
        default:
            break;
        }
    }
    return out;
}

/* ------------------------------------------------------------- report */

static gboolean
shares_a_guest(const VbViolation *a, const VbViolation *b)
{
    if (a->rule != b->rule)
        return FALSE;
    for (guint i = 0; i < a->vms->len; i++) {
        for (guint k = 0; k < b->vms->len; k++) {
            if (g_array_index(a->vms, guint, i) == g_array_index(b->vms, guint, k))
                return TRUE;
        }
    }
    return FALSE;
}

/* Marks each violation of @before that no violation of @after continues as
 * repaired, and gives each its sentence. */
static void
settle_violations(const VbState *st, GPtrArray *before, GPtrArray *after)
{
    for (guint i = 0; i < before->len; i++) {
        VbViolation *v = g_ptr_array_index(before, i);
        const char *note = st->rule_note[v->rule];

        v->repaired = TRUE;
        for (guint k = 0; k < after->len && v->repaired; k++)
            v->repaired = !shares_a_guest(v, g_ptr_array_index(after, k));
        g_free(v->reason);
        if (v->repaired)
            v->reason = g_strdup("mended by the plan's moves");
        else
            v->reason = g_strdup(note ? note : "the planner found no move that mends it");
    }
}

/* The rule breaks of both kinds before the plan (hard first); called when
 * the state is new. */
void
vb_plan_census(VbPlan *plan, const VbState *st)
{
    g_autoptr(GPtrArray) soft = vb_state_violations(st, FALSE);

    plan->violations = vb_state_violations(st, TRUE);
    for (guint i = 0; i < soft->len; i++)
        g_ptr_array_add(plan->violations, g_steal_pointer(&g_ptr_array_index(soft, i)));
    g_ptr_array_set_free_func(soft, NULL);
}

/* Violations after the plan that were not there before: should rules the
 * plan broke to mend heavier ones (transfer full). */
static GPtrArray *
new_violations(GPtrArray *before, GPtrArray *after)
{
    GPtrArray *created = g_ptr_array_new_with_free_func((GDestroyNotify) vb_violation_free);

    for (guint k = 0; k < after->len; k++) {
        VbViolation *a = g_ptr_array_index(after, k);
        gboolean known = FALSE;

        for (guint i = 0; i < before->len && !known; i++)
            known = shares_a_guest(g_ptr_array_index(before, i), a);
        if (!known) {
            a->reason = g_strdup("broken by the plan to mend rules of more weight");
            g_ptr_array_add(created, a);
            after->pdata[k] = NULL;
        }
    }
    return created;
}

static void
report_rules(VbPlan *plan, const VbState *st, GString *remains, guint *n_remaining)
{
    g_autoptr(GPtrArray) after = vb_state_violations(st, TRUE);
    g_autoptr(GPtrArray) soft = vb_state_violations(st, FALSE);

    for (guint i = 0; i < soft->len; i++)
        g_ptr_array_add(after, g_steal_pointer(&g_ptr_array_index(soft, i)));
    g_ptr_array_set_free_func(soft, NULL);
    if (!plan->violations)
        plan->violations = g_ptr_array_new_with_free_func((GDestroyNotify) vb_violation_free);
    settle_violations(st, plan->violations, after);
    plan->created = new_violations(plan->violations, after);
    for (guint i = 0; i < plan->violations->len; i++) {
        const VbViolation *v = g_ptr_array_index(plan->violations, i);
        const VbRule *rule = st->rules[v->rule].rule;

        if (v->repaired || !rule->hard)
            continue;
        if ((*n_remaining)++ < 3)
            g_string_append_printf(remains, "%srule %s (must) is still broken on %s: %s",
                                   remains->len ? "; " : "", rule->name,
                                   vb_inventory_host(st->inv,
                                                     g_array_index(v->hosts, guint, 0))->name,
                                   v->reason);
    }
}

static void
report_hotspots(VbPlan *plan, const VbState *st, GString *remains, guint *n_remaining)
{
    const double hw = st->policy->high_water;

    plan->hotspots = g_ptr_array_new_with_free_func((GDestroyNotify) vb_hotspot_free);
    for (guint h = 0; h < st->n_hosts; h++) {
        gboolean counted = FALSE;

        /* The host an evacuation empties is relieved by it: listed too. */
        if (!st->participates[h] && h != st->evacuated)
            continue;
        for (guint m = 0; m < VB_METRIC_LAST; m++) {
            VbHotspot *spot;

            if (st->weight[m] <= 0 ||
                (plan->before[h].load[m] <= hw && plan->after[h].load[m] <= hw))
                continue;
            spot = g_new0(VbHotspot, 1);
            spot->host = h;
            spot->metric = m;
            spot->before = plan->before[h].load[m];
            spot->after = plan->after[h].load[m];
            if (spot->after > hw)
                spot->reason = g_strdup(spot->before <= hw ? "pushed above high-water by the plan"
                                        : st->host_note[h]           ? st->host_note[h]
                                        : plan->kind == VB_PLAN_EVACUATE
                                            ? "an evacuation moves only the guests of the host "
                                              "it empties (plan or rebalance relieves it)"
                                            : "no move relieves it");
            g_ptr_array_add(plan->hotspots, spot);
            /* An evacuation answers for the hotspots it makes; those it
             * found stay in the list with their reason. */
            if (plan->kind == VB_PLAN_EVACUATE && spot->before > hw)
                continue;
            if (spot->after > hw && !counted && (*n_remaining)++ < 3)
                g_string_append_printf(remains,
                                       "%s%s stays above high-water on %s (%.2f > %.2f): %s",
                                       remains->len ? "; " : "",
                                       vb_inventory_host(st->inv, h)->name,
                                       vb_metric_names[m], spot->after, hw, spot->reason);
            counted = counted || spot->after > hw;
        }
    }
}

/* The plan's violations, hotspots, target_met and stop reason (see above). */
void
vb_plan_report(VbPlan *plan, const VbState *st, gboolean goal_met, const char *stop_reason)
{
    g_autoptr(GString) remains = g_string_new(NULL);
    guint n_remaining = 0;

    report_rules(plan, st, remains, &n_remaining);
    report_hotspots(plan, st, remains, &n_remaining);
    if (n_remaining > 3)
        g_string_append_printf(remains, "; and %u more", n_remaining - 3);
    plan->target_met = goal_met && n_remaining == 0;
    g_free(plan->stop_reason);
    if (plan->target_met)
        plan->stop_reason = g_strdup_printf("target met: %s", stop_reason);
    else if (n_remaining == 0)
        plan->stop_reason = g_strdup(stop_reason);
    else
        plan->stop_reason = g_strdup_printf("%s%s; %s", goal_met ? "target not met: " : "",
                                            stop_reason, remains->str);
}
