/*
 * state.c: the working state of one planning run (see placement-priv.h).
 *
 * Built once from the inventory and the policy in O(hosts + guests + rule
 * members): capacities, base loads, free memory after the reserve, vCPUs left
 * under the overcommit, free storage, each guest's demand, the guest-level
 * refusals (pinned, excluded, cooldown, daily cap), the rules resolved to guest ids, and
 * per pool the participating hosts sorted by weighted load.
 *
 * Invariants after every vb_state_apply()/vb_state_unapply():
 *  - pools[p].order is sorted by load[].weighted and pos[] indexes it;
 *  - pools[p].sum / sum_sq are the sums over that order (up to rounding);
 *  - vm_host[] is where each guest is in the plan so far;
 *  - rule_count holds, for guest-guest rules, the members on each host in
 *    the plan so far;
 *  - mem_free, vcpus_free and storage_free are what each host has left after
 *    the moves so far: arrivals take, departures give back.
 * A move costs O(metrics + its rules + the distance its hosts travel in the
 * pool order), which is small because one move changes two loads a little.
 */
#include "config.h"

#include <string.h>

#include "placement/placement-priv.h"

#define RULE_KEY(r, h) GSIZE_TO_POINTER(((gsize) (r) << 32) | (gsize) (h))

G_STATIC_ASSERT(sizeof(gsize) >= 8);

/* --------------------------------------------------------------- hosts */

void
vb_host_figures_compute(const VbPolicy *policy, const double weight[VB_METRIC_LAST],
                        const VbHost *host, const VbHostTotals *totals,
                        VbHostFigures *ret)
{
    double *cap = ret->cap;
    VbHostLoad *load = &ret->load;
    double reserve = (double) vb_policy_memory_reserve_mib(policy, host->memory_mib);
    guint64 alloc_mem = totals->memory_mib;
    guint alloc_vcpus = totals->vcpus;
    double used_mem;

    cap[VB_METRIC_CPU] = host->cpu_cores;
    if (policy->load_source == VB_LOAD_ALLOCATED)
        cap[VB_METRIC_CPU] *= policy->cpu_overcommit;
    cap[VB_METRIC_MEMORY] = (double) host->memory_mib;
    cap[VB_METRIC_DISK] = host->storage_total_gib;

    if (policy->load_source == VB_LOAD_ALLOCATED) {
        /* Disk: a guest's own pool is where it sits, so the local disks of
         * its guests (the totals, summed in guest id order) are its load. */
        used_mem = (double) alloc_mem + policy->host_overhead_memory_mib;
        load->load[VB_METRIC_CPU] = cap[0] > 0 ? alloc_vcpus / cap[0] : 0;
        load->load[VB_METRIC_MEMORY] = cap[1] > 0 ? used_mem / cap[1] : 0;
        load->load[VB_METRIC_DISK] = cap[2] > 0 ? totals->local_disk_gib / cap[2] : 0;
    } else {
        used_mem = (double) MAX(host->memory_used_mib, alloc_mem);
        load->load[VB_METRIC_CPU] = host->cpu_usage;
        load->load[VB_METRIC_MEMORY] = cap[1] > 0 ? (double) host->memory_used_mib / cap[1] : 0;
        load->load[VB_METRIC_DISK] = cap[2] > 0 ? (cap[2] - host->storage_free_gib) / cap[2] : 0;
    }
    load->weighted = 0;
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        load->weighted += weight[m] * load->load[m];
    ret->mem_free = (double) host->memory_mib - used_mem - reserve;
    ret->vcpus_free = host->cpu_cores * policy->cpu_overcommit - alloc_vcpus;
    ret->storage_free = host->storage_free_gib;
}

static void
init_host(VbState *st, const VbHost *host, const VbHostTotals *totals)
{
    VbHostFigures fig;

    vb_host_figures_compute(st->policy, st->weight, host, totals, &fig);
    memcpy(&st->cap[host->id * VB_METRIC_LAST], fig.cap, sizeof(fig.cap));
    st->load[host->id] = fig.load;
    st->mem_free[host->id] = fig.mem_free;
    st->vcpus_free[host->id] = fig.vcpus_free;
    st->storage_free[host->id] = fig.storage_free;
}

static gboolean
name_listed(char **names, const char *name)
{
    return names && g_strv_contains((const char *const *) names, name);
}

/* Label ids of @names known to the inventory (unknown ones match nothing). */
static void
label_bits(const VbInventory *inv, char **names, VbBits *ret)
{
    guint id;

    for (guint i = 0; names && names[i]; i++) {
        if (vb_strtab_lookup(inv->labels, names[i], &id))
            vb_bits_set(ret, id);
    }
}

static void
init_hosts(VbState *st)
{
    const VbInventory *inv = st->inv;
    const VbHostTotals *totals = vb_inventory_host_totals(inv);

    /* The guests' sums come from the inventory's per-host totals (built once
     * per inventory), so building the state costs O(hosts) here. */
    for (guint h = 0; h < st->n_hosts; h++) {
        const VbHost *host = vb_inventory_host(inv, h);

        st->excluded[h] = name_listed(st->policy->exclude_hosts, host->name);
        st->participates[h] =
            host->state == VB_HOST_STATE_UP && !st->excluded[h] && h != st->evacuated;
        init_host(st, host, &totals[h]);
    }
}

/* -------------------------------------------------------------- guests */

static VbRejectCode
fixed_refusal(const VbState *st, const VbVm *vm, const VbBits *excluded_labels)
{
    const VbPolicy *policy = st->policy;

    if (vm->on_two_hosts)
        return VB_REJECT_ON_TWO_HOSTS;
    if (vb_vm_is_pinned(vm, NULL))
        return VB_REJECT_PINNED;
    if (name_listed(policy->exclude_vms, vm->name) ||
        vb_bits_intersects(&vm->labels, excluded_labels))
        return VB_REJECT_VM_EXCLUDED;
    if (!st->evacuating && vm->last_migrated > 0 &&
        st->now - vm->last_migrated < (gint64) policy->cooldown_seconds)
        return VB_REJECT_COOLDOWN;
    /* After the cooldown: a guest in its cooldown stays put even where the
     * cap is waived (must-rule repairs). */
    if (!st->evacuating && policy->max_moves_per_vm_per_day > 0 &&
        vm->moves_last_day >= policy->max_moves_per_vm_per_day)
        return VB_REJECT_MOVE_CAP;
    return VB_REJECT_LAST;
}

/* Fills the per-guest facts of @v: its demand and guest-level refusal.
 * Idempotent. */
static void
init_vm(VbState *st, guint v)
{
    const VbVm *vm = vb_inventory_vm(st->inv, v);
    const VbHost *host = vb_inventory_host(st->inv, vm->host);
    const gboolean allocated = st->policy->load_source == VB_LOAD_ALLOCATED;
    double *d = &st->demand[v * VB_METRIC_LAST];
    gboolean on = vm->state != VB_VM_STATE_SHUTOFF;

    st->vm_host[v] = vm->host;
    d[VB_METRIC_CPU] = on ? (allocated ? vm->vcpus : vm->vcpus * vm->cpu_usage) : 0;
    d[VB_METRIC_MEMORY] = on ? (double) vm->memory_mib : 0;
    d[VB_METRIC_DISK] = vb_vm_copied_gib(st->inv, vm, host->pool);
    st->fixed[v] = fixed_refusal(st, vm, &st->excluded_labels);
}

/* Every guest, or only those of @focus (the rest stay refused). */
static void
init_vms(VbState *st, const GArray *focus)
{
    label_bits(st->inv, st->policy->exclude_vm_labels, &st->excluded_labels);
    for (guint i = 0; i < (focus ? focus->len : st->n_vms); i++)
        init_vm(st, focus ? g_array_index(focus, guint, i) : i);
}

/* --------------------------------------------------------------- rules */

static void
resolve_rule(VbState *st, VbRuleRef *ref)
{
    const VbInventory *inv = st->inv;
    const VbRule *rule = ref->rule;
    VbBits vm_labels = {0};
    g_autofree gboolean *seen = NULL;

    ref->members = g_array_new(FALSE, FALSE, sizeof(guint));
    label_bits(inv, rule->host_labels, &ref->host_labels);
    label_bits(inv, rule->vm_labels, &vm_labels);
    seen = g_new0(gboolean, MAX(st->n_vms, 1));
    for (guint i = 0; rule->vms && rule->vms[i]; i++) {
        const VbVm *vm = vb_inventory_get_vm(inv, rule->vms[i]);

        /* A guest the rule names but the pool lacks is simply not there. */
        if (vm && !seen[vm->id]) {
            seen[vm->id] = TRUE;
            g_array_append_val(ref->members, vm->id);
        }
    }
    for (guint v = 0; vm_labels.n_words > 0 && v < st->n_vms; v++) {
        if (!seen[v] && vb_bits_intersects(&vb_inventory_vm(inv, v)->labels, &vm_labels)) {
            seen[v] = TRUE;
            g_array_append_val(ref->members, v);
        }
    }
    vb_bits_clear(&vm_labels);
}

static void
count_add(VbState *st, guint rule, guint host, int delta)
{
    gpointer key = RULE_KEY(rule, host);
    int count = GPOINTER_TO_INT(g_hash_table_lookup(st->rule_count, key)) + delta;

    if (count > 0)
        g_hash_table_insert(st->rule_count, key, GINT_TO_POINTER(count));
    else
        g_hash_table_remove(st->rule_count, key);
}

guint
vb_state_rule_count(const VbState *st, guint rule, guint host)
{
    return GPOINTER_TO_UINT(g_hash_table_lookup(st->rule_count, RULE_KEY(rule, host)));
}

static gboolean
is_group_rule(const VbRule *rule)
{
    return rule->kind == VB_RULE_VM_AFFINITY || rule->kind == VB_RULE_VM_ANTI_AFFINITY;
}

static void
init_rules(VbState *st)
{
    guint total = 0;

    st->n_rules = st->policy->rules ? st->policy->rules->len : 0;
    st->rules = g_new0(VbRuleRef, MAX(st->n_rules, 1));
    st->rule_note = g_new0(char *, MAX(st->n_rules, 1));
    /* Ranking states without rules have no per-guest arrays at all. */
    st->rule_start = st->vm_host ? g_new0(guint, st->n_vms + 1) : NULL;
    st->rule_count = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint r = 0; r < st->n_rules; r++) {
        VbRuleRef *ref = &st->rules[r];

        ref->rule = g_ptr_array_index(st->policy->rules, r);
        resolve_rule(st, ref);
        for (guint i = 0; i < ref->members->len; i++) {
            guint v = g_array_index(ref->members, guint, i);

            if (!st->all_vms)
                init_vm(st, v);

            st->rule_start[v + 1]++;
            if (is_group_rule(ref->rule))
                count_add(st, r, st->vm_host[v], 1);
        }
        total += ref->members->len;
    }
    /* Without members every offset is 0 already: no pass over the guests. */
    for (guint v = 0; total > 0 && v < st->n_vms; v++)
        st->rule_start[v + 1] += st->rule_start[v];
    st->rule_index = g_new0(guint, MAX(total, 1));
    {
        g_autofree guint *fill = g_memdup2(st->rule_start, sizeof(guint) * (st->n_vms + 1));

        for (guint r = 0; r < st->n_rules; r++) {
            for (guint i = 0; i < st->rules[r].members->len; i++)
                st->rule_index[fill[g_array_index(st->rules[r].members, guint, i)]++] = r;
        }
    }
}

/* --------------------------------------------------------- pool orders */

static const VbState *sort_state;

static int
cmp_host_load(const void *a, const void *b)
{
    double la = sort_state->load[*(const guint *) a].weighted;
    double lb = sort_state->load[*(const guint *) b].weighted;

    if (la != lb)
        return la < lb ? -1 : 1;
    return (int) *(const guint *) a - (int) *(const guint *) b;
}

static void
init_pool(VbState *st, const VbPool *pool, VbPoolOrder *po)
{
    po->order = g_new0(guint, MAX(pool->hosts->len, 1));
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        po->cap_min[m] = G_MAXDOUBLE;
    for (guint i = 0; i < pool->hosts->len; i++) {
        guint h = g_array_index(pool->hosts, guint, i);
        double w = st->load[h].weighted;

        if (!st->participates[h])
            continue;
        po->order[po->n++] = h;
        po->sum += w;
        po->sum_sq += w * w;
        for (guint m = 0; m < VB_METRIC_LAST; m++) {
            double cap = st->cap[h * VB_METRIC_LAST + m];

            if (cap > 0)
                po->cap_min[m] = MIN(po->cap_min[m], cap);
            po->cap_max[m] = MAX(po->cap_max[m], cap);
        }
    }
    /* Pure code, single-threaded planning: a static comparator context is
     * fine here (qsort_r is not in C11). */
    sort_state = st;
    qsort(po->order, po->n, sizeof(guint), cmp_host_load);
    sort_state = NULL;
    for (guint i = 0; i < po->n; i++)
        st->pos[po->order[i]] = i;
}

/* ----------------------------------------------------------- lifecycle */

/* What a state holds beyond the policy's weights and rules. */
typedef enum {
    STATE_RULES,   /* rules only: place computes each host's figures itself */
    STATE_HOSTS,   /* and the per-host figures (host loads) */
    STATE_ORDERS,  /* and every guest and the pools' load orders (planners) */
} StateParts;

static VbState *
state_build(const VbInventory *inv, const VbPolicy *policy, gint64 now, guint evacuated,
            const GArray *focus, StateParts parts)
{
    VbState *st = g_new0(VbState, 1);
    gsize n_hosts = MAX(inv->hosts->len, 1);
    double wsum = 0;

    st->inv = inv;
    st->policy = policy;
    st->now = now;
    st->evacuated = evacuated;
    st->evacuating = evacuated != G_MAXUINT;
    st->n_hosts = inv->hosts->len;
    st->n_vms = inv->vms->len;
    st->n_pools = inv->pools->len;
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        wsum += MAX(policy->weights[m], 0.0);
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        st->weight[m] = wsum > 0 ? MAX(policy->weights[m], 0.0) / wsum : (m == 0);

    if (parts >= STATE_HOSTS) {
        st->participates = g_new0(gboolean, n_hosts);
        st->excluded = g_new0(gboolean, n_hosts);
        st->cap = g_new0(double, n_hosts * VB_METRIC_LAST);
        st->load = g_new0(VbHostLoad, n_hosts);
        st->mem_free = g_new0(double, n_hosts);
        st->vcpus_free = g_new0(double, n_hosts);
        st->storage_free = g_new0(double, n_hosts);
        st->storage_credit = g_new0(double, n_hosts);
        st->pos = g_new0(guint, n_hosts);
        st->host_note = g_new0(char *, n_hosts);
    }
    /* Per-guest arrays: a ranking state needs them only for rule members,
     * and zeroing them is most of what a place call would cost. */
    if (parts == STATE_ORDERS || (policy->rules && policy->rules->len > 0)) {
        st->demand = g_new0(double, MAX(st->n_vms, 1) * VB_METRIC_LAST);
        st->vm_host = g_new0(guint, MAX(st->n_vms, 1));
        st->moved = g_new0(gboolean, MAX(st->n_vms, 1));
        st->fixed = g_new0(VbRejectCode, MAX(st->n_vms, 1));
    }

    st->all_vms = focus == NULL;
    if (parts >= STATE_HOSTS)
        init_hosts(st);
    init_vms(st, focus);
    init_rules(st);
    st->pools = g_new0(VbPoolOrder, MAX(st->n_pools, 1));
    for (guint p = 0; parts == STATE_ORDERS && p < st->n_pools; p++)
        init_pool(st, vb_inventory_pool(inv, p), &st->pools[p]);
    return st;
}

VbState *
vb_state_new(const VbInventory *inv, const VbPolicy *policy, gint64 now, guint evacuated,
             const GArray *focus)
{
    return state_build(inv, policy, now, evacuated, focus, STATE_ORDERS);
}

VbState *
vb_state_new_ranking(const VbInventory *inv, const VbPolicy *policy)
{
    g_autoptr(GArray) none = g_array_new(FALSE, FALSE, sizeof(guint));

    return state_build(inv, policy, 0, G_MAXUINT, none, STATE_HOSTS);
}

VbState *
vb_state_new_rules(const VbInventory *inv, const VbPolicy *policy)
{
    g_autoptr(GArray) none = g_array_new(FALSE, FALSE, sizeof(guint));

    return state_build(inv, policy, 0, G_MAXUINT, none, STATE_RULES);
}

gboolean
vb_state_host_excluded(const VbState *st, const VbHost *host)
{
    return name_listed(st->policy->exclude_hosts, host->name);
}

void
vb_state_free(VbState *st)
{
    if (!st)
        return;
    for (guint p = 0; st->pools && p < st->n_pools; p++)
        g_free(st->pools[p].order);
    for (guint r = 0; st->rules && r < st->n_rules; r++) {
        vb_bits_clear(&st->rules[r].host_labels);
        if (st->rules[r].members)
            g_array_unref(st->rules[r].members);
    }
    if (st->rule_count)
        g_hash_table_unref(st->rule_count);
    g_free(st->pools);
    g_free(st->rules);
    g_free(st->rule_start);
    g_free(st->rule_index);
    g_free(st->participates);
    g_free(st->excluded);
    g_free(st->cap);
    g_free(st->load);
    g_free(st->mem_free);
    g_free(st->vcpus_free);
    g_free(st->storage_free);
    g_free(st->storage_credit);
    g_free(st->pos);
    g_free(st->demand);
    g_free(st->vm_host);
    g_free(st->moved);
    g_free(st->fixed);
    g_free(st->noise_var);
    for (guint r = 0; st->rule_note && r < st->n_rules; r++)
        g_free(st->rule_note[r]);
    g_free(st->rule_note);
    for (guint h = 0; st->host_note && h < st->n_hosts; h++)
        g_free(st->host_note[h]);
    g_free(st->host_note);
    vb_bits_clear(&st->excluded_labels);
    g_free(st);
}

/* ------------------------------------------------------------- updates */

gboolean
vb_state_in_pool_order(const VbState *st, guint host)
{
    return st->participates[host];
}

/* Moves @host to its place in its pool's order after its load changed. */
static void
repair_order(VbState *st, guint host)
{
    VbPoolOrder *po = &st->pools[vb_inventory_host(st->inv, host)->pool];
    guint i = st->pos[host];
    double w = st->load[host].weighted;

    while (i > 0 && st->load[po->order[i - 1]].weighted > w) {
        po->order[i] = po->order[i - 1];
        st->pos[po->order[i]] = i;
        i--;
    }
    while (i + 1 < po->n && st->load[po->order[i + 1]].weighted < w) {
        po->order[i] = po->order[i + 1];
        st->pos[po->order[i]] = i;
        i++;
    }
    po->order[i] = host;
    st->pos[host] = i;
}

/* Adds @sign times the guest's load to @host (disk: @disk_gib). */
static void
shift_load(VbState *st, guint vm, guint host, double sign, double disk_gib, gboolean started)
{
    const VbVm *v = vb_inventory_vm(st->inv, vm);
    VbHostLoad *load = &st->load[host];
    double before = load->weighted;
    const double *cap = &st->cap[host * VB_METRIC_LAST];
    double cpu = st->demand[vm * VB_METRIC_LAST + VB_METRIC_CPU];
    double mem = st->demand[vm * VB_METRIC_LAST + VB_METRIC_MEMORY];

    if (started) {
        /* A shut-off guest started after its cold move loads its new host. */
        cpu = st->policy->load_source == VB_LOAD_ALLOCATED ? v->vcpus : v->vcpus * v->cpu_usage;
        mem = (double) v->memory_mib;
    }
    load->load[VB_METRIC_CPU] += cap[VB_METRIC_CPU] > 0 ? sign * cpu / cap[VB_METRIC_CPU] : 0;
    load->load[VB_METRIC_MEMORY] +=
        cap[VB_METRIC_MEMORY] > 0 ? sign * mem / cap[VB_METRIC_MEMORY] : 0;
    load->load[VB_METRIC_DISK] +=
        cap[VB_METRIC_DISK] > 0 ? sign * disk_gib / cap[VB_METRIC_DISK] : 0;
    load->weighted = 0;
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        load->weighted += st->weight[m] * load->load[m];
    if (st->participates[host]) {
        VbPoolOrder *po = &st->pools[vb_inventory_host(st->inv, host)->pool];

        po->sum += load->weighted - before;
        po->sum_sq += load->weighted * load->weighted - before * before;
        repair_order(st, host);
    }
}

/* Capacity and rule bookkeeping of @vm moving from @from to @to (@sign 1)
 * or being taken back (@sign -1). The source gets back what the guest used
 * there, so later moves of the plan may use it (the plan is ordered). */
static void
shift_capacity(VbState *st, guint vm, guint from, guint to, int sign)
{
    const VbVm *v = vb_inventory_vm(st->inv, vm);
    guint to_pool = vb_inventory_host(st->inv, to)->pool;

    if (vb_vm_counts_on_dest(st->policy, v)) {
        st->mem_free[to] -= sign * (double) v->memory_mib;
        st->vcpus_free[to] -= sign * (double) v->vcpus;
    }
    if (v->state != VB_VM_STATE_SHUTOFF) {
        st->mem_free[from] += sign * (double) v->memory_mib;
        st->vcpus_free[from] += sign * (double) v->vcpus;
    }
    st->storage_free[to] -= sign * vb_vm_copied_gib(st->inv, v, to_pool);
    st->storage_free[from] += sign * st->demand[vm * VB_METRIC_LAST + VB_METRIC_DISK];
    st->storage_credit[from] += sign * st->demand[vm * VB_METRIC_LAST + VB_METRIC_DISK];
    for (guint i = st->rule_start[vm]; i < st->rule_start[vm + 1]; i++) {
        guint r = st->rule_index[i];
        VbRuleKind kind = st->rules[r].rule->kind;

        if (kind == VB_RULE_VM_AFFINITY || kind == VB_RULE_VM_ANTI_AFFINITY) {
            count_add(st, r, from, -sign);
            count_add(st, r, to, sign);
        }
    }
}

/* Plans @vm onto @to. The caller checked vb_state_refusal(). */
void
vb_state_apply(VbState *st, guint vm, guint to)
{
    guint from = st->vm_host[vm];
    const VbVm *v = vb_inventory_vm(st->inv, vm);

    g_assert(from != to);
    shift_load(st, vm, from, -1, st->demand[vm * VB_METRIC_LAST + VB_METRIC_DISK], FALSE);
    shift_load(st, vm, to, 1, vb_vm_copied_gib(st->inv, v, vb_inventory_host(st->inv, to)->pool),
               vb_vm_started_by_move(st->policy, v));
    shift_capacity(st, vm, from, to, 1);
    vb_state_noise_move(st, vm, from, to);
    st->vm_host[vm] = to;
    st->moved[vm] = TRUE;
}

/* Takes back the move of @vm that vb_state_apply() planned from @from. */
void
vb_state_unapply(VbState *st, guint vm, guint from)
{
    guint to = st->vm_host[vm];
    const VbVm *v = vb_inventory_vm(st->inv, vm);

    g_assert(st->moved[vm] && from != to);
    shift_capacity(st, vm, from, to, -1);
    shift_load(st, vm, to, -1, vb_vm_copied_gib(st->inv, v, vb_inventory_host(st->inv, to)->pool),
               vb_vm_started_by_move(st->policy, v));
    shift_load(st, vm, from, 1, st->demand[vm * VB_METRIC_LAST + VB_METRIC_DISK], FALSE);
    vb_state_noise_move(st, vm, to, from);
    st->vm_host[vm] = from;
    st->moved[vm] = FALSE;
}
