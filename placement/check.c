/*
 * check.c: the independent plan checker.
 *
 * Written apart from the planners on purpose (it reads the inventory and
 * the policy itself and never calls constraints.c or state.c), so that a bug
 * in the planners' constraint code cannot hide itself: the property tests
 * run every plan through here.
 *
 * It replays the moves in order on its own books: each host's memory left
 * after the reserve, vCPUs left under the overcommit and storage left, which
 * arrivals use up and departures give back; which guests already moved (a
 * guest moves at most once); where every guest is. Each move must start
 * where its guest is.
 * Hard affinity is checked on the end state: every moved member ends beside
 * another member, and no group ends on more hosts than it started on.
 *
 * Churn: outside an evacuation, a guest within its cooldown does not move,
 * nor one at its daily move cap (max_moves_per_vm_per_day) unless it breaks
 * a must rule where it is (the planners mend those regardless of the cap).
 *
 * CPU: the destination offers every feature the guest needs; a running guest
 * with its host's own CPU (host-passthrough, maximum) lands only on the same
 * CPU model with the same features as the host it leaves.
 *
 * Unplaced guests: none is moved; the rejections of each add up (one per
 * other host, in host id order, each in a group of its own code; the groups'
 * counts and examples are their hosts'), and the refusals it can confirm on
 * its own hold (a host that is not up, another pool without cross-pool moves).
 *
 * Cost: O(hosts + guests * rules) to set up, O(moves * (rules + features)),
 * O(hosts) per unplaced guest.
 */
#include "config.h"

#include <string.h>

#include "placement/placement-priv.h"

#define EPS 1e-6

typedef struct {
    const VbInventory *inv;
    const VbPolicy *policy;
    const VbPlan *plan;
    gint64 now;
    gint evacuated; /* host id or -1 */
    double *mem_left, *vcpus_left, *storage_left;
    guint *where; /* guest -> host now */
    gboolean *moved;
    GPtrArray *members; /* per rule: GArray of guest ids (hard rules only) */
} Checker;

static gboolean
in_list(char **list, const char *name)
{
    for (guint i = 0; list && list[i]; i++) {
        if (strcmp(list[i], name) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
vm_has_label_in(const VbInventory *inv, const VbVm *vm, char **names)
{
    for (gint bit = vb_bits_next(&vm->labels, 0); bit >= 0;
         bit = vb_bits_next(&vm->labels, bit + 1)) {
        if (in_list(names, vb_strtab_name(inv->labels, bit)))
            return TRUE;
    }
    return FALSE;
}

static gboolean
host_has_label_in(const VbInventory *inv, const VbHost *host, char **names)
{
    for (gint bit = vb_bits_next(&host->labels, 0); bit >= 0;
         bit = vb_bits_next(&host->labels, bit + 1)) {
        if (in_list(names, vb_strtab_name(inv->labels, bit)))
            return TRUE;
    }
    return FALSE;
}

static gboolean
rule_has(const VbInventory *inv, const VbRule *rule, const VbVm *vm)
{
    return in_list(rule->vms, vm->name) || vm_has_label_in(inv, vm, rule->vm_labels);
}

/* Disks a move copies: inside a pool only the unshared ones (a shared disk,
 * network or on the pool's shared storage, never moves, whether or not the
 * pool has shared_storage), every disk into another pool. */
static double
copied(const VbVm *vm, const VbHost *from, const VbHost *to)
{
    double gib = 0;

    for (guint i = 0; i < vm->n_disks; i++) {
        if (!(from->pool == to->pool && vm->disks[i].shared))
            gib += vm->disks[i].size_gib;
    }
    return gib;
}

/* Disks a guest keeps on its host's own storage. */
static double
on_source(const VbVm *vm, const VbHost *from)
{
    return copied(vm, from, from);
}

static void
setup_hosts(Checker *c)
{
    const VbInventory *inv = c->inv;
    const VbPolicy *policy = c->policy;
    guint n = inv->hosts->len;

    c->mem_left = g_new0(double, MAX(n, 1));
    c->vcpus_left = g_new0(double, MAX(n, 1));
    c->storage_left = g_new0(double, MAX(n, 1));
    for (guint h = 0; h < n; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        double mem = 0, vcpus = 0, used;

        for (guint i = 0; i < host->vms->len; i++) {
            const VbVm *vm = vb_inventory_vm(inv, g_array_index(host->vms, guint, i));

            if (vm->state != VB_VM_STATE_SHUTOFF) {
                mem += (double) vm->memory_mib;
                vcpus += vm->vcpus;
            }
        }
        if (policy->load_source == VB_LOAD_ALLOCATED)
            used = mem + policy->host_overhead_memory_mib;
        else
            used = MAX(mem, (double) host->memory_used_mib);
        c->mem_left[h] = (double) host->memory_mib - used -
                         (double) vb_policy_memory_reserve_mib(policy, host->memory_mib);
        c->vcpus_left[h] = host->cpu_cores * policy->cpu_overcommit - vcpus;
        c->storage_left[h] = host->storage_free_gib;
    }
}

static void
setup_rules(Checker *c)
{
    const VbInventory *inv = c->inv;
    guint n_rules = c->policy->rules ? c->policy->rules->len : 0;

    c->members = g_ptr_array_new_with_free_func((GDestroyNotify) g_array_unref);
    for (guint r = 0; r < n_rules; r++) {
        const VbRule *rule = g_ptr_array_index(c->policy->rules, r);
        GArray *members = g_array_new(FALSE, FALSE, sizeof(guint));

        for (guint v = 0; rule->hard && v < inv->vms->len; v++) {
            const VbVm *vm = vb_inventory_vm(inv, v);

            if (!rule_has(inv, rule, vm))
                continue;
            g_array_append_val(members, v);
        }
        g_ptr_array_add(c->members, members);
    }
}

static gboolean fail(GError **error, guint index, const VbInventory *inv, const VbMove *move,
                     const char *format, ...) G_GNUC_PRINTF(5, 6);

static gboolean
fail(GError **error, guint index, const VbInventory *inv, const VbMove *move, const char *format,
     ...)
{
    g_autofree char *what = NULL;
    va_list args;

    va_start(args, format);
    what = g_strdup_vprintf(format, args);
    va_end(args);
    g_set_error(error, VB_ERROR, VB_ERROR_CONSTRAINT, "move %u (%s %s -> %s): %s", index + 1,
                move->vm < inv->vms->len ? vb_inventory_vm(inv, move->vm)->name : "?",
                move->from < inv->hosts->len ? vb_inventory_host(inv, move->from)->name : "?",
                move->to < inv->hosts->len ? vb_inventory_host(inv, move->to)->name : "?", what);
    return FALSE;
}

/* TRUE when every bit of @a is in @b; written here rather than borrowed. */
static gboolean
all_in(const VbBits *a, const VbBits *b)
{
    for (gint bit = vb_bits_next(a, 0); bit >= 0; bit = vb_bits_next(a, bit + 1)) {
        if (!vb_bits_test(b, bit))
            return FALSE;
    }
    return TRUE;
}

/* The guest's CPU on the destination: every feature it needs (its named
 * model's included); and a guest not shut off that has its host's own CPU
 * (host-passthrough, maximum, host-model without a model) lands only on the
 * CPU model recorded on it (else its host's) with its host's exact features. */
static const char *
cpu_breach(const VbVm *vm, const VbHost *from, const VbHost *to)
{
    gboolean hosts_cpu = FALSE;

    if (!all_in(&vm->cpu_features, &to->cpu_features))
        return "the destination lacks a CPU feature the guest needs";
    if (vm->state != VB_VM_STATE_SHUTOFF) {
        hosts_cpu = vm->cpu_mode == VB_CPU_MODE_HOST_PASSTHROUGH ||
                    vm->cpu_mode == VB_CPU_MODE_MAXIMUM ||
                    (vm->cpu_mode == VB_CPU_MODE_HOST_MODEL && vm->cpu_model == NULL);
    }
    if (!hosts_cpu)
        return NULL;
    if (g_strcmp0(to->cpu_model, vm->cpu_model ? vm->cpu_model : from->cpu_model) != 0)
        return "the guest has its host's CPU and the destination's CPU model differs";
    if (!all_in(&from->cpu_features, &to->cpu_features) ||
        !all_in(&to->cpu_features, &from->cpu_features))
        return "the guest has its host's CPU and the destination's CPU features differ";
    return NULL;
}

/* TRUE when @vm, where it is now in the replay, breaks a must rule: on a
 * host a run-on rule does not allow or an avoid rule forbids, beside another
 * member of an anti-affinity rule, or apart from a member of an affinity
 * rule. Only such a guest may be moved past its daily move cap. */
static gboolean
breaks_must_rule(const Checker *c, const VbVm *vm)
{
    const VbHost *here = vb_inventory_host(c->inv, c->where[vm->id]);

    for (guint r = 0; r < c->members->len; r++) {
        const VbRule *rule = g_ptr_array_index(c->policy->rules, r);
        const GArray *members = g_ptr_array_index(c->members, r);

        if (!rule->hard || !rule_has(c->inv, rule, vm))
            continue;
        if (rule->kind == VB_RULE_HOST_AFFINITY &&
            !host_has_label_in(c->inv, here, rule->host_labels))
            return TRUE;
        if (rule->kind == VB_RULE_HOST_ANTI_AFFINITY &&
            host_has_label_in(c->inv, here, rule->host_labels))
            return TRUE;
        for (guint i = 0; i < members->len; i++) {
            guint other = g_array_index(members, guint, i);

            if (other == vm->id)
                continue;
            if (rule->kind == VB_RULE_VM_ANTI_AFFINITY && c->where[other] == here->id)
                return TRUE;
            if (rule->kind == VB_RULE_VM_AFFINITY && c->where[other] != here->id)
                return TRUE;
        }
    }
    return FALSE;
}

/* Guest, source and destination facts that do not depend on the books. */
static const char *
static_breach(const Checker *c, const VbVm *vm, const VbHost *from, const VbHost *to)
{
    const VbPolicy *policy = c->policy;
    gboolean evacuating = c->plan->kind == VB_PLAN_EVACUATE;

    if (vm->on_two_hosts)
        return "the guest is active on two hosts (a failed post-copy)";
    if ((vm->devices && vm->devices[0]) || vb_vm_has_tag(vm, VB_TAG_NO_MIGRATE))
        return "the guest is pinned (pass-through device or no-migrate)";
    if (in_list(policy->exclude_vms, vm->name) ||
        vm_has_label_in(c->inv, vm, policy->exclude_vm_labels))
        return "the guest is excluded by the policy";
    if (!evacuating && vm->last_migrated > 0 &&
        c->now - vm->last_migrated < (gint64) policy->cooldown_seconds)
        return "the guest is within its cooldown";
    if (!evacuating && policy->max_moves_per_vm_per_day > 0 &&
        vm->moves_last_day >= policy->max_moves_per_vm_per_day && !breaks_must_rule(c, vm))
        return "the guest reached its daily move cap and breaks no must rule where it is";
    if (to == from)
        return "source and destination are the same host";
    if (to->state != VB_HOST_STATE_UP || (gint) to->id == c->evacuated)
        return "the destination is not up";
    if (in_list(policy->exclude_hosts, to->name) ||
        ((gint) from->id != c->evacuated && in_list(policy->exclude_hosts, from->name)))
        return "a host of the move is excluded by the policy";
    if (to->pool != from->pool && !policy->allow_cross_pool)
        return "the destination is in another pool";
    if (g_strcmp0(to->hypervisor, from->hypervisor) != 0)
        return "the hypervisors differ";
    if (g_strcmp0(to->cpu_vendor, from->cpu_vendor) != 0)
        return "the CPU vendors differ";
    return cpu_breach(vm, from, to);
}

static const char *
rule_breach(Checker *c, const VbVm *vm, const VbHost *to)
{
    for (guint r = 0; r < c->members->len; r++) {
        const VbRule *rule = g_ptr_array_index(c->policy->rules, r);
        const GArray *members = g_ptr_array_index(c->members, r);

        if (!rule->hard || !rule_has(c->inv, rule, vm))
            continue;
        if (rule->kind == VB_RULE_HOST_AFFINITY &&
            !host_has_label_in(c->inv, to, rule->host_labels))
            return "a hard run-on rule: the destination lacks the labels";
        if (rule->kind == VB_RULE_HOST_ANTI_AFFINITY &&
            host_has_label_in(c->inv, to, rule->host_labels))
            return "a hard avoid rule: the destination has the labels";
        for (guint i = 0; rule->kind == VB_RULE_VM_ANTI_AFFINITY && i < members->len; i++) {
            guint other = g_array_index(members, guint, i);

            if (other != vm->id && c->where[other] == to->id)
                return "a hard anti-affinity rule: another member is on the destination";
        }
    }
    return NULL;
}

static const char *
capacity_breach(Checker *c, const VbVm *vm, const VbHost *from, const VbHost *to)
{
    double disks = copied(vm, from, to);

    if (vm->state != VB_VM_STATE_SHUTOFF || c->policy->migration.start_after_cold_move) {
        if (c->mem_left[to->id] + EPS < (double) vm->memory_mib)
            return "the destination lacks memory after its reserve";
        if (c->vcpus_left[to->id] + EPS < vm->vcpus)
            return "the destination would pass its vCPU overcommit";
        c->mem_left[to->id] -= (double) vm->memory_mib;
        c->vcpus_left[to->id] -= vm->vcpus;
    }
    if (vm->state != VB_VM_STATE_SHUTOFF) {
        c->mem_left[from->id] += (double) vm->memory_mib;
        c->vcpus_left[from->id] += vm->vcpus;
    }
    if (disks > 0) {
        if (c->storage_left[to->id] + EPS < 3 * disks)
            return "the destination lacks 3x the copied disks in free storage";
        if (c->storage_left[from->id] + EPS < 2 * disks)
            return "the source lacks 2x the copied disks in free storage";
        c->storage_left[to->id] -= disks;
    }
    c->storage_left[from->id] += on_source(vm, from);
    return NULL;
}

static gboolean
replay(Checker *c, GError **error)
{
    const VbInventory *inv = c->inv;

    for (guint i = 0; i < c->plan->moves->len; i++) {
        const VbMove *move = &g_array_index(c->plan->moves, VbMove, i);
        const VbVm *vm;
        const VbHost *from, *to;
        const char *breach;

        if (move->vm >= inv->vms->len || move->from >= inv->hosts->len ||
            move->to >= inv->hosts->len)
            return fail(error, i, inv, move, "names a guest or host that does not exist");
        vm = vb_inventory_vm(inv, move->vm);
        from = vb_inventory_host(inv, move->from);
        to = vb_inventory_host(inv, move->to);
        if (c->moved[move->vm])
            return fail(error, i, inv, move, "the guest is moved twice in one plan");
        if (c->where[move->vm] != move->from)
            return fail(error, i, inv, move, "the guest is not on the source host");
        if ((breach = static_breach(c, vm, from, to)) || (breach = rule_breach(c, vm, to)) ||
            (breach = capacity_breach(c, vm, from, to)))
            return fail(error, i, inv, move, "%s", breach);
        c->moved[move->vm] = TRUE;
        c->where[move->vm] = move->to;
    }
    return TRUE;
}

/* Hard affinity on the end state. */
static gboolean
affinity_holds(Checker *c, GError **error)
{
    for (guint r = 0; r < c->members->len; r++) {
        const VbRule *rule = g_ptr_array_index(c->policy->rules, r);
        const GArray *members = g_ptr_array_index(c->members, r);
        g_autoptr(GHashTable) before = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_autoptr(GHashTable) after = g_hash_table_new(g_direct_hash, g_direct_equal);

        if (rule->kind != VB_RULE_VM_AFFINITY)
            continue;
        for (guint i = 0; i < members->len; i++) {
            guint v = g_array_index(members, guint, i);

            g_hash_table_add(before, GUINT_TO_POINTER(vb_inventory_vm(c->inv, v)->host));
            g_hash_table_add(after, GUINT_TO_POINTER(c->where[v]));
        }
        for (guint i = 0; i < members->len; i++) {
            guint v = g_array_index(members, guint, i);
            gboolean companion = FALSE;

            for (guint k = 0; c->moved[v] && k < members->len; k++)
                companion |= k != i && c->where[g_array_index(members, guint, k)] == c->where[v];
            if (c->moved[v] && !companion) {
                g_set_error(error, VB_ERROR, VB_ERROR_CONSTRAINT,
                            "hard affinity rule %s: %s ends alone on %s", rule->name,
                            vb_inventory_vm(c->inv, v)->name,
                            vb_inventory_host(c->inv, c->where[v])->name);
                return FALSE;
            }
        }
        if (g_hash_table_size(after) > g_hash_table_size(before)) {
            g_set_error(error, VB_ERROR, VB_ERROR_CONSTRAINT,
                        "hard affinity rule %s: its guests end on %u hosts, were on %u", rule->name,
                        g_hash_table_size(after), g_hash_table_size(before));
            return FALSE;
        }
    }
    return TRUE;
}

/* ------------------------------------------------------ unplaced guests */

/* A refusal the checker can confirm on its own: a host that is not up (or
 * is the one evacuated), one of another pool without cross-pool moves. */
static gboolean
refusal_holds(const Checker *c, guint vm, guint host, VbRejectCode code)
{
    const VbHost *to = vb_inventory_host(c->inv, host);
    const VbHost *from = vb_inventory_host(c->inv, c->where[vm]);

    switch (code) {
    case VB_REJECT_HOST_NOT_UP:
        return to->state != VB_HOST_STATE_UP || (gint) host == c->evacuated;
    case VB_REJECT_OTHER_POOL:
        return to->pool != from->pool && !c->policy->allow_cross_pool;
    default:
        return TRUE;
    }
}

/* The rejections of @u add up: one per other host in id order, each in a
 * group of its code, the groups' counts and examples those of their hosts,
 * one sentence per group; refusals it can confirm hold. */
static gboolean
rejections_add_up(const Checker *c, const VbUnplaced *u, GError **error)
{
    const char *name = vb_inventory_vm(c->inv, u->vm)->name;
    guint n_groups = u->groups ? u->groups->len : 0;
    g_autofree guint *seen = g_new0(guint, MAX(n_groups, 1));
    guint expected = 0;
    const char *bad = NULL;

    for (guint i = 0; !bad && i < u->rejections->len; i++) {
        const VbRejection *r = &g_array_index(u->rejections, VbRejection, i);
        const VbRejectGroup *g;

        expected += (gint) expected == c->evacuated;
        if (r->host != expected++ || r->group >= n_groups)
            bad = "a host missing, twice or out of order, or a rejection without a group";
        else if ((g = &g_array_index(u->groups, VbRejectGroup, r->group))->code != r->code)
            bad = "a rejection in a group of another code";
        else if (seen[r->group] < VB_REJECT_EXAMPLES && g->examples[seen[r->group]] != r->host)
            bad = "a group whose examples are not its first hosts";
        else if (!refusal_holds(c, u->vm, r->host, r->code))
            bad = "a host refused for a reason it does not have";
        else
            seen[r->group]++;
    }
    expected += (gint) expected == c->evacuated;
    if (!bad && u->rejections->len > 0 && expected != c->inv->hosts->len)
        bad = "not every other host has its rejection";
    for (guint k = 0; !bad && k < n_groups; k++) {
        const VbRejectGroup *g = &g_array_index(u->groups, VbRejectGroup, k);

        if (g->count != seen[k] || !g->reason || !*g->reason)
            bad = "a group whose count is not its hosts', or without a sentence";
    }
    if (bad)
        g_set_error(error, VB_ERROR, VB_ERROR_CONSTRAINT, "unplaced guest %s: %s", name, bad);
    return bad == NULL;
}

/* Every unplaced guest stays where it is and its rejections add up. */
static gboolean
unplaced_hold(const Checker *c, GError **error)
{
    for (guint i = 0; c->plan->unplaced && i < c->plan->unplaced->len; i++) {
        const VbUnplaced *u = g_ptr_array_index(c->plan->unplaced, i);

        if (c->moved[u->vm]) {
            g_set_error(error, VB_ERROR, VB_ERROR_CONSTRAINT,
                        "unplaced guest %s is moved by the plan",
                        vb_inventory_vm(c->inv, u->vm)->name);
            return FALSE;
        }
        if (u->rejections && !rejections_add_up(c, u, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vb_placement_check_plan(const VbInventory *inv, const VbPolicy *policy, const VbPlan *plan,
                        const VbPlanOptions *opts, GError **error)
{
    Checker c = {.inv = inv, .policy = policy, .plan = plan, .evacuated = -1};
    gboolean ok;

    g_return_val_if_fail(inv != NULL && policy != NULL && plan != NULL, FALSE);
    c.now = opts ? opts->now : 0;
    if (plan->evacuated_host) {
        const VbHost *host = vb_inventory_get_host(inv, plan->evacuated_host);

        c.evacuated = host ? (gint) host->id : -1;
    }
    c.where = g_new0(guint, MAX(inv->vms->len, 1));
    c.moved = g_new0(gboolean, MAX(inv->vms->len, 1));
    for (guint v = 0; v < inv->vms->len; v++)
        c.where[v] = vb_inventory_vm(inv, v)->host;
    setup_hosts(&c);
    setup_rules(&c);
    ok = replay(&c, error) && affinity_holds(&c, error) && unplaced_hold(&c, error);
    g_free(c.mem_left);
    g_free(c.vcpus_left);
    g_free(c.storage_left);
    g_free(c.where);
    g_free(c.moved);
    g_ptr_array_unref(c.members);
    return ok;
}
